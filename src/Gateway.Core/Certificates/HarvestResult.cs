using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// What a signed message yields: the sender's address, the signer's certificate, the certificates
/// mail to the sender may be encrypted to (<see cref="EncryptionCertificates"/>: the signer's own,
/// or the encryption certificate a signing-only one came with) with the chain the signature
/// carried, and its SMIMECapabilities (DER, when present); or every reason it was refused.
/// </summary>
public sealed record HarvestResult(
    string? Address,
    X509Certificate2? Signer,
    IReadOnlyList<X509Certificate2> Chain,
    byte[]? Capabilities,
    IReadOnlyList<string> Problems)
{
    public IReadOnlyList<X509Certificate2> EncryptionCertificates { get; init; } = [];

    public bool Accepted => Problems.Count == 0 && Signer is not null && Address is not null && EncryptionCertificates.Count > 0;

    public static HarvestResult Refused(params string[] problems) => new(null, null, [], null, problems);
}
