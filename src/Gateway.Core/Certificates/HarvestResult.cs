using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// What a signed message yields: the sender's address, the signer's certificate with the chain the
/// signature carried and its SMIMECapabilities (DER, when present), or every reason it was refused.
/// </summary>
public sealed record HarvestResult(
    string? Address,
    X509Certificate2? Signer,
    IReadOnlyList<X509Certificate2> Chain,
    byte[]? Capabilities,
    IReadOnlyList<string> Problems)
{
    public bool Accepted => Problems.Count == 0 && Signer is not null && Address is not null;

    public static HarvestResult Refused(params string[] problems) => new(null, null, [], null, problems);
}
