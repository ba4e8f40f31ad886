using Gateway.Ca;

namespace Gateway.Configuration;

/// <summary>The built-in certificate authority that enrols internal senders automatically.</summary>
public sealed class CaOptions
{
    public bool Enabled { get; set; }

    /// <summary>Who issues the certificates: "builtIn" (the CA in <see cref="Path"/>, created by Gateway or imported). External CAs come later.</summary>
    public string Issuer { get; set; } = BuiltInCertificateAuthority.IssuerName;

    public static readonly string[] KnownIssuers = [BuiltInCertificateAuthority.IssuerName];

    /// <summary>Folder of the CA: ca.p12 (its key, encrypted), identities/ADDRESS/SERIAL.p12, revoked.json, ca.crl.</summary>
    public string Path { get; set; } = "var/ca";

    public string CommonName { get; set; } = "Gateway Internal S/MIME CA";

    /// <summary>Senders who get a certificate on their first mail: addresses, domains or *.domain.</summary>
    public string[]? EligibleSenders { get; set; }

    /// <summary>Members of this LDAP group are eligible too (besides <see cref="EligibleSenders"/>).</summary>
    public EligibleGroupOptions? EligibleGroup { get; set; }

    public IssuedKeyType KeyType { get; set; } = IssuedKeyType.Rsa3072;
    public int ValidityDays { get; set; } = 365;
    public int RenewBeforeDays { get; set; } = 30;

    public string? CrlDistributionUrl { get; set; }

    /// <summary>When set (e.g. http://+:8080/pki/), Gateway serves ca.crl and ca.crt under this HTTP prefix (<see cref="Gateway.Http.HttpPrefix"/>).</summary>
    public string? CrlHttpPrefix { get; set; }
    public string? IssuerCertificateUrl { get; set; }

    /// <summary>Protects the CA key and every issued key at rest; prefer the environment or <see cref="PasswordFile"/>.</summary>
    public string? Password { get; set; }
    public string? PasswordFile { get; set; }

    /// <summary>The password in force: the first line of <see cref="PasswordFile"/> when set, else <see cref="Password"/>; empty ones are refused at start.</summary>
    public string? EffectivePassword =>
        !string.IsNullOrEmpty(PasswordFile) ? SecretFile.FirstLine(PasswordFile) : Password;
}
