namespace Gateway.Certificates;

/// <summary>
/// OpenLDAP's client library takes TLS_REQCERT from /etc/ldap/ldap.conf (or the file LDAPCONF
/// names) and from LDAPTLS_REQCERT in the environment, for every connection: "never", "allow"
/// or "try" would let a directory's TLS certificate go unverified, or its host name unchecked.
/// Gateway refuses to start with LDAP over TLS under such a setting.
/// </summary>
public static class LdapTlsVerification
{
    private static readonly string[] Weak = ["never", "allow", "try"];

    /// <summary>What weakens verification on this machine, in words; null when nothing does.</summary>
    public static string? Weakened()
    {
        var file = Environment.GetEnvironmentVariable("LDAPCONF") is { Length: > 0 } named ? named : "/etc/ldap/ldap.conf";
        string? text = null;
        try
        {
            if (File.Exists(file)) text = File.ReadAllText(file);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Unreadable to us is unreadable to libldap in this process too.
        }
        return Weakened(Environment.GetEnvironmentVariable("LDAPTLS_REQCERT"), text, file);
    }

    public static string? Weakened(string? environment, string? configuration, string configurationPath)
    {
        if (environment is { } value && Weak.Contains(value.Trim(), StringComparer.OrdinalIgnoreCase))
            return $"LDAPTLS_REQCERT={value.Trim()} in the environment";
        foreach (var line in (configuration ?? "").Split('\n'))
        {
            var parts = line.Trim().Split((char[])[' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            if (parts.Length == 2 && parts[0].Equals("TLS_REQCERT", StringComparison.OrdinalIgnoreCase) && Weak.Contains(parts[1], StringComparer.OrdinalIgnoreCase))
                return $"TLS_REQCERT {parts[1]} in {configurationPath}";
        }
        return null;
    }
}
