using System.Security.Cryptography.X509Certificates;

namespace Gateway.Testing.Pki;

/// <summary>How <see cref="TestPki.Issue"/> builds an end-entity certificate. Defaults give a valid S/MIME certificate.</summary>
public sealed record CertificateOptions
{
    public int KeySize { get; init; } = 2048;

    /// <summary>When set, this RSA key is certified instead of a new one (a re-issue for the same key).</summary>
    public System.Security.Cryptography.RSA? ReusedRsaKey { get; init; }

    /// <summary>Writes the RSA AlgorithmIdentifier without its NULL parameters, as some CAs do: the same key, other bytes.</summary>
    public bool OmitRsaAlgorithmParameters { get; init; }

    /// <summary>When set, an EC key on this curve instead of RSA (key usage then defaults to digitalSignature and keyAgreement).</summary>
    public System.Security.Cryptography.ECCurve? EcCurve { get; init; }

    /// <summary>Default: now minus one day (tolerates clock skew between peers).</summary>
    public DateTimeOffset? NotBefore { get; init; }

    /// <summary>Default: now plus one year. Set in the past for expired-certificate tests.</summary>
    public DateTimeOffset? NotAfter { get; init; }

    /// <summary><see cref="X509KeyUsageFlags.None"/> omits the extension entirely.</summary>
    public X509KeyUsageFlags KeyUsage { get; init; } =
        X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment;

    public bool KeyUsageCritical { get; init; } = true;

    public bool IncludeEmailProtectionEku { get; init; } = true;

    /// <summary>The rfc822Name in subjectAltName; null means the issued address.</summary>
    public string? SubjectAltNameEmail { get; init; }

    /// <summary>False omits subjectAltName, leaving the address only in the subject CN.</summary>
    public bool IncludeSubjectAltName { get; init; } = true;

    /// <summary>Signing CA; null means the trusted root. Use <see cref="TestPki.CreateIntermediate"/> for chains.</summary>
    public TestCertificateAuthority? Issuer { get; init; }

    /// <summary>Issue from the PKI's separate root that no peer trusts (overrides <see cref="Issuer"/>).</summary>
    public bool FromUntrustedCa { get; init; }

    /// <summary>When set, the certificate names this URL as its CRL distribution point.</summary>
    public string? CrlDistributionUrl { get; init; }

    /// <summary>When set, the certificate names this URL as its OCSP responder (authority information access).</summary>
    public string? OcspUrl { get; init; }
}
