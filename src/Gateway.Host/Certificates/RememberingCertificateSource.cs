namespace Gateway.Certificates;

/// <summary>
/// Wraps a directory: its answers go into the persistent cache (found certificates for source
/// "cache", "none" as a negative answer), and a fresh negative answer spares the query. A
/// temporary failure is never remembered: the directory is asked again at the next attempt.
/// </summary>
public sealed class RememberingCertificateSource(ICertificateSource directory, CertificateCache cache) : ICertificateSource
{
    public string Name => directory.Name;

    public async ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        if (usage == CertificateUsage.Signing) return await directory.FindAsync(address, usage, cancellationToken);
        if (cache.RecentlyHadNone(address, Name)) return CertificateLookup.None;
        var lookup = await directory.FindAsync(address, usage, cancellationToken);
        if (lookup.Failed) return lookup;
        if (lookup.Candidates.Count == 0) cache.RememberNone(address, Name);
        else cache.RememberAnswer(address, Name, lookup.Candidates.Select(c => (c.Certificate, c.Intermediates)).ToList());
        return lookup;
    }
}
