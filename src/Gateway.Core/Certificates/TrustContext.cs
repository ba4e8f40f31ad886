using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// What a certificate must chain to, and the intermediates that may be used to get there.
/// Only configured anchors are trusted: the system roots are not S/MIME trust decisions. Both are
/// asked at each use: the local store reloads them when the folder or the anchor files change.
/// </summary>
public sealed class TrustContext(Func<X509Certificate2Collection> anchors, Func<X509Certificate2Collection> intermediates, TimeProvider time)
{
    public TrustContext(X509Certificate2Collection anchors, X509Certificate2Collection intermediates, TimeProvider time)
        : this(() => anchors, () => intermediates, time)
    {
    }

    public TrustContext(X509Certificate2Collection anchors, Func<X509Certificate2Collection> intermediates, TimeProvider time)
        : this(() => anchors, intermediates, time)
    {
    }

    public X509Certificate2Collection Anchors => anchors();

    /// <summary>Asked at each use: the local folder's intermediates change when it is reloaded.</summary>
    public X509Certificate2Collection Intermediates => intermediates();

    public TimeProvider Time { get; } = time;

    /// <summary>This trust with more intermediates to build chains through (the anchors stay the same); itself when there are none.</summary>
    public TrustContext WithIntermediates(IEnumerable<X509Certificate2>? more)
    {
        var extra = more?.ToArray() ?? [];
        if (extra.Length == 0) return this;
        var intermediates = new X509Certificate2Collection(Intermediates);
        intermediates.AddRange(extra);
        return new TrustContext(Anchors, intermediates, Time);
    }
}
