using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>A certificate found for an address, and where it came from (file, directory, harvest).</summary>
public sealed record CertificateCandidate(X509Certificate2 Certificate, string Source);
