namespace Gateway.Certificates;

/// <summary>
/// Source "cache": certificates a directory returned less than PositiveTtl ago, so a known partner
/// costs no directory query and is still found while the directory is down. Named
/// "cache (ldap:corp)" in the audit. Validated again like every candidate.
/// </summary>
public sealed class CacheCertificateSource(CertificateCache cache) : ICertificateSource
{
    public string Name => "cache";

    public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        if (usage == CertificateUsage.Signing) return ValueTask.FromResult(CertificateLookup.None);
        var found = cache.Find(address, source => source.StartsWith("ldap:", StringComparison.Ordinal), cache.Settings.PositiveTtl);
        return ValueTask.FromResult(CertificateLookup.Found(found.Select(c => new CertificateCandidate(c.Certificate, $"cache ({c.Source})", c.Chain)).ToList()));
    }
}
