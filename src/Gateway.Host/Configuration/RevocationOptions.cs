namespace Gateway.Configuration;

public enum RevocationMode
{
    /// <summary>Revocation is not checked.</summary>
    Off,
    /// <summary>Checked; a revoked certificate is never used, one whose status cannot be learned is used.</summary>
    SoftFail,
    /// <summary>Checked; a certificate whose status cannot be learned is not used and the recipient waits.</summary>
    HardFail,
}

/// <summary>How recipient and sender certificates are checked against CRLs and OCSP.</summary>
public sealed class RevocationOptions
{
    public RevocationMode Mode { get; set; } = RevocationMode.SoftFail;

    /// <summary>Limit for fetching one CRL or OCSP answer.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(10);
}
