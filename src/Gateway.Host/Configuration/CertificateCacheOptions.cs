namespace Gateway.Configuration;

/// <summary>The persistent cache of directory answers and harvested certificates (Gateway:Certificates:Cache).</summary>
public sealed class CertificateCacheOptions
{
    /// <summary>The SQLite database file; its folder is created when missing.</summary>
    public string Path { get; set; } = "var/certificates.db";

    /// <summary>A certificate a directory returned is served from the cache this long after it was last seen there.</summary>
    public TimeSpan PositiveTtl { get; set; } = TimeSpan.FromDays(1);

    /// <summary>A directory that had no certificate for an address is not asked again for it this long.</summary>
    public TimeSpan NegativeTtl { get; set; } = TimeSpan.FromHours(1);
}
