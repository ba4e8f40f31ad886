namespace Gateway.Ca;

/// <summary>The addresses of an LDAP group's members, or why the directory could not tell.</summary>
public sealed record GroupMembership(IReadOnlySet<string> Addresses, string? Failure)
{
    public bool Known => Failure is null;

    public static GroupMembership Read(IReadOnlySet<string> addresses) => new(addresses, null);

    public static GroupMembership Unavailable(string reason) => new(new HashSet<string>(), reason);
}
