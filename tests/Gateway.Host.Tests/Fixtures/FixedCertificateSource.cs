using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;

namespace Gateway.Tests.Fixtures;

/// <summary>A certificate source that always offers the one certificate it was given.</summary>
public sealed class FixedCertificateSource(X509Certificate2 certificate) : ICertificateSource
{
    public string Name => "test";

    public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken) =>
        ValueTask.FromResult(CertificateLookup.Found([new CertificateCandidate(certificate, Name)]));
}
