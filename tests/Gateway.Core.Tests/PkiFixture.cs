using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Testing.Pki;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests;

/// <summary>
/// One generated PKI per test class: RSA key generation is the slow part of these tests, and
/// the standard identities are only read, never changed.
/// </summary>
public sealed class PkiFixture : IDisposable
{
    public TestPki Pki { get; } = TestPki.Create();

    private readonly Lazy<TestIdentity> _alice;
    private readonly Lazy<TestIdentity> _bob;
    private readonly Lazy<TestIdentity> _carol;

    public PkiFixture()
    {
        _alice = new(() => Pki.Issue("alice@example.test"));
        _bob = new(() => Pki.Issue("bob@partner.test"));
        _carol = new(() => Pki.Issue("carol@partner.test"));
    }

    public TestIdentity Alice => _alice.Value;
    public TestIdentity Bob => _bob.Value;
    public TestIdentity Carol => _carol.Value;

    /// <summary>A clock at the real now, so freshly issued certificates are inside their validity.</summary>
    public static FakeTimeProvider Clock() => new(DateTimeOffset.UtcNow);

    public TrustContext Trust(TimeProvider? time = null, params X509Certificate2[] intermediates) =>
        new(new X509Certificate2Collection(Pki.Root.Certificate), new X509Certificate2Collection(intermediates), time ?? Clock());

    public void Dispose() => Pki.Dispose();
}
