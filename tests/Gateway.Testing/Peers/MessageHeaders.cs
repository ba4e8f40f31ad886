namespace Gateway.Testing.Peers;

/// <summary>Top-level headers that openssl cms -sign/-encrypt writes above the S/MIME entity.</summary>
public sealed record MessageHeaders(string? From, string? To, string? Subject)
{
    public static readonly MessageHeaders None = new(null, null, null);

    internal IEnumerable<string> ToArguments()
    {
        if (From is not null)
        {
            yield return "-from";
            yield return From;
        }

        if (To is not null)
        {
            yield return "-to";
            yield return To;
        }

        if (Subject is not null)
        {
            yield return "-subject";
            yield return Subject;
        }
    }
}
