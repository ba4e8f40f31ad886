using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>Whether one certificate may be used for one address and purpose, and if not, why.</summary>
public sealed record CertificateVerdict(X509Certificate2 Certificate, IReadOnlyList<string> Problems, IReadOnlyList<X509Certificate2> ChainWithoutRoot)
{
    public bool Usable => Problems.Count == 0;
}
