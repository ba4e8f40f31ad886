namespace Gateway.Ca;

public enum IssuedKeyType { Rsa3072, EcdsaP256 }

/// <summary>What to put in an issued S/MIME certificate besides the subscriber's key.</summary>
public sealed record IssuanceRequest(
    string Address,
    DateTimeOffset NotBefore,
    DateTimeOffset NotAfter,
    string? CrlDistributionUrl = null,
    string? IssuerCertificateUrl = null);
