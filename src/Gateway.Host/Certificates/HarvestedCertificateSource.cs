namespace Gateway.Certificates;

/// <summary>
/// Source "harvested": certificates taken from partners' verified signatures (`gateway certs
/// import`). Kept without a TTL: the certificate's own validity, checked on every use, ends it.
/// </summary>
public sealed class HarvestedCertificateSource(CertificateCache cache) : ICertificateSource
{
    public const string SourceName = "harvested";

    public string Name => SourceName;

    public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        if (usage == CertificateUsage.Signing) return ValueTask.FromResult(CertificateLookup.None);
        var found = cache.Find(address, source => source == SourceName, maxAge: null);
        return ValueTask.FromResult(CertificateLookup.Found(found.Select(c => new CertificateCandidate(c.Certificate, SourceName, c.Chain)).ToList()));
    }
}
