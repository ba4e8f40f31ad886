namespace Gateway.Configuration;

/// <summary>One LDAP directory (an entry of Gateway:Certificates:Ldap).</summary>
public sealed class LdapDirectoryOptions
{
    /// <summary>Named in the audit as "ldap:Name"; default: the URL's host.</summary>
    public string? Name { get; set; }

    /// <summary>ldap://host[:port] or ldaps://host[:port].</summary>
    public string Url { get; set; } = string.Empty;

    /// <summary>Upgrade an ldap:// connection with StartTLS before binding.</summary>
    public bool StartTls { get; set; }

    /// <summary>
    /// A folder of PEM CA certificates the directory's TLS certificate must chain to (ldaps:// or
    /// StartTls). Null: the system's (OpenLDAP's TLS_CACERT in /etc/ldap/ldap.conf). The server's
    /// certificate is always verified, its name included; there is no setting to turn that off.
    /// </summary>
    public string? TrustedCertificates { get; set; }

    /// <summary>Empty: anonymous bind. Otherwise a simple bind with <see cref="BindPassword"/>.</summary>
    public string? BindDn { get; set; }

    /// <summary>Prefer the environment (Gateway__Certificates__Ldap__0__BindPassword) or <see cref="BindPasswordFile"/>.</summary>
    public string? BindPassword { get; set; }

    /// <summary>A file whose first line is the bind password.</summary>
    public string? BindPasswordFile { get; set; }

    public string BaseDn { get; set; } = string.Empty;

    /// <summary>RFC 4515 filter; {0} is replaced by the escaped address.</summary>
    public string Filter { get; set; } = "(mail={0})";

    /// <summary>Connect, bind and search, each; a directory slower than this is "unavailable" (the recipient is deferred).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>At most this many entries are read per lookup.</summary>
    public int SizeLimit { get; set; } = 20;

    public string EffectiveName => string.IsNullOrWhiteSpace(Name)
        ? (Uri.TryCreate(Url, UriKind.Absolute, out var uri) ? uri.Host : Url)
        : Name;
}
