namespace Gateway.Testing;

/// <summary>
/// Thrown when a peer tool is not installed. Interop tests must fail with this (never skip),
/// because a silently skipped interop test proves nothing.
/// </summary>
public sealed class MissingToolException : Exception
{
    private static readonly IReadOnlyDictionary<string, string> DebianPackages = new Dictionary<string, string>
    {
        ["openssl"] = "openssl",
        ["gpgsm"] = "gpgsm",
        ["gpgconf"] = "gpgconf",
        ["postfix"] = "postfix",
        ["postconf"] = "postfix",
        ["postqueue"] = "postfix",
        ["postsuper"] = "postfix",
        ["smtp-sink"] = "postfix",
        ["smtp-source"] = "postfix",
        ["swaks"] = "swaks",
        ["slapd"] = "slapd",
        ["slapadd"] = "slapd",
        ["slaptest"] = "slapd",
        ["ldapsearch"] = "ldap-utils",
        ["ldapadd"] = "ldap-utils",
        ["script"] = "bsdutils",
    };

    public MissingToolException(string tool, IEnumerable<string> searched)
        : base(BuildMessage(tool, searched))
    {
        Tool = tool;
        DebianPackage = DebianPackages.GetValueOrDefault(tool);
    }

    public string Tool { get; }

    public string? DebianPackage { get; }

    private static string BuildMessage(string tool, IEnumerable<string> searched)
    {
        var where = string.Join(":", searched);
        return DebianPackages.TryGetValue(tool, out var package)
            ? $"Required tool '{tool}' is not installed (searched {where}). Install it with: apt-get install -y --no-install-recommends {package}"
            : $"Required tool '{tool}' is not installed (searched {where}); no Debian package is known for it.";
    }
}
