using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>Asks the CRL distribution points or OCSP responders of a chosen certificate (I/O: implemented by the host).</summary>
public interface IRevocationChecker
{
    ValueTask<RevocationVerdict> CheckAsync(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chainWithoutRoot, CancellationToken cancellationToken);
}
