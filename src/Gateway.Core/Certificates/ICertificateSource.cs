namespace Gateway.Certificates;

/// <summary>
/// One place certificates come from (the local folder, the persistent cache, an LDAP directory,
/// harvested signatures). A source only finds candidates; it never judges them: the
/// <see cref="CertificateSelector"/> holds every source to the same rules.
/// </summary>
public interface ICertificateSource
{
    /// <summary>The name used in Gateway:Certificates:Sources and in the audit ("local", "ldap", …).</summary>
    string Name { get; }

    ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken);
}
