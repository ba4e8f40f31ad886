namespace Gateway.Certificates;

/// <summary>
/// Source "cache": the certificates a directory returned in its latest answer, less than
/// PositiveTtl ago, so a known partner costs no directory query and is still found while the
/// directory is down. Named
/// "cache (ldap:corp)" in the audit. Validated again like every candidate.
/// </summary>
public sealed class CacheCertificateSource(CertificateCache cache) : ICertificateSource
{
    public string Name => "cache";

    public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        if (usage == CertificateUsage.Signing) return ValueTask.FromResult(CertificateLookup.None);
        var found = cache.Find(address, source => source.StartsWith("ldap:", StringComparison.Ordinal), cache.Settings.PositiveTtl)
            // Only what each directory returned in its latest answer: a certificate taken out of the
            // directory since (a lost device, a renewal) is not encrypted to from the cache.
            .GroupBy(c => c.Source)
            .SelectMany(answers =>
            {
                var latest = answers.Max(a => a.LastSeen);
                // A "none" is kept only while it is the latest answer (a later answer with certificates
                // clears it): a directory that said so (every certificate taken out) gives none from here either.
                if (cache.NoneSince(address, answers.Key) is not null) return [];
                return answers.Where(c => c.LastSeen == latest);
            });
        return ValueTask.FromResult(CertificateLookup.Found(found.Select(c => new CertificateCandidate(c.Certificate, $"cache ({c.Source})", c.Chain)).ToList()));
    }
}
