using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// What a certificate must chain to, and the intermediates that may be used to get there.
/// Only configured anchors are trusted: the system roots are not S/MIME trust decisions.
/// </summary>
public sealed class TrustContext(X509Certificate2Collection anchors, X509Certificate2Collection intermediates, TimeProvider time)
{
    public X509Certificate2Collection Anchors { get; } = anchors;
    public X509Certificate2Collection Intermediates { get; } = intermediates;
    public TimeProvider Time { get; } = time;
}
