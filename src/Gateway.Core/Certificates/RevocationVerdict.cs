namespace Gateway.Certificates;

public enum RevocationStatus { Good, Revoked, Unavailable }

/// <summary>What CRL or OCSP said about one certificate; Unavailable only when the mode makes it matter (hard-fail).</summary>
public sealed record RevocationVerdict(RevocationStatus Status, string Detail)
{
    /// <summary>Good only because the status could not be learned and the mode is soft-fail.</summary>
    public bool SoftFailed { get; init; }

    public static RevocationVerdict Good(string detail = "not revoked") => new(RevocationStatus.Good, detail);
}
