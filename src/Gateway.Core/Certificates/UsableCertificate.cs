using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>A candidate that passed every check, with the chain it was validated with (for its revocation check).</summary>
public sealed record UsableCertificate(CertificateCandidate Candidate, IReadOnlyList<X509Certificate2> ChainWithoutRoot);
