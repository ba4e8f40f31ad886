namespace Gateway.Certificates;

/// <summary>
/// Source "harvested": certificates taken from partners' verified signatures (`gateway certs
/// import`). Kept without a TTL: the certificate's own validity, checked on every use, ends it.
/// </summary>
public sealed class HarvestedCertificateSource(CertificateCache cache) : ICertificateSource
{
    public const string SourceName = "harvested";

    /// <summary>Certificate files an admin imported (`certs import x.crt`): kept beside what signed mail gave, never replaced by it.</summary>
    public const string ImportedName = "harvested:file";

    public string Name => SourceName;

    public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        if (usage == CertificateUsage.Signing) return ValueTask.FromResult(CertificateLookup.None);
        var found = cache.Find(address, source => source is SourceName or ImportedName, maxAge: null);
        return ValueTask.FromResult(CertificateLookup.Found(found.Select(c => new CertificateCandidate(c.Certificate, c.Source, c.Chain)
        {
            Capabilities = Gateway.Smime.SmimeCapabilities.Parse(c.Capabilities),
        }).ToList()));
    }
}
