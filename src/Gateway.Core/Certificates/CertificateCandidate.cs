using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// A certificate found for an address, and where it came from (file, directory, harvest), with
/// the intermediates that came with it (a signature's or a directory's PKCS#7 chain), which may
/// be used to build its chain to a configured anchor. They are never anchors themselves.
/// </summary>
public sealed record CertificateCandidate(X509Certificate2 Certificate, string Source, IReadOnlyList<X509Certificate2>? Intermediates = null)
{
    /// <summary>What its owner's client said it reads, when the certificate came with a signed message (harvested); null when unknown.</summary>
    public Smime.SmimeCapabilities? Capabilities { get; init; }
}
