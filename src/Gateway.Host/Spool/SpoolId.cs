using System.Security.Cryptography;

namespace Gateway.Spool;

/// <summary>
/// Queue ids sort by arrival time and are unguessable enough not to collide: UTC time to the
/// second, then 40 random bits in Crockford base32 (no I, L, O, U to misread in a log).
/// </summary>
public static class SpoolId
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public static string New(DateTimeOffset now)
    {
        Span<byte> random = stackalloc byte[5];
        RandomNumberGenerator.Fill(random);
        ulong bits = 0;
        foreach (var b in random) bits = (bits << 8) | b;
        Span<char> suffix = stackalloc char[8];
        for (var i = 7; i >= 0; i--, bits >>= 5) suffix[i] = Alphabet[(int)(bits & 31)];
        return $"{now.UtcDateTime:yyyyMMddHHmmss}{suffix}";
    }

    /// <summary>Ids come back from file names and the CLI: only our own alphabet may reach a path.</summary>
    public static bool IsValid(string id) =>
        id.Length == 22 && id.Take(14).All(char.IsAsciiDigit) && id.Skip(14).All(c => Alphabet.Contains(c));

    /// <summary>An entry name as the queue tools accept it: an id, or id-N for a policy hold copy.</summary>
    public static bool IsValidName(string name)
    {
        var dash = name.IndexOf('-');
        return dash < 0 ? IsValid(name) : IsValid(name[..dash]) && dash + 1 < name.Length && name[(dash + 1)..].All(char.IsAsciiDigit);
    }
}
