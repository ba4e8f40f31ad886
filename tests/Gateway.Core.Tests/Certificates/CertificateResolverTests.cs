using Gateway.Certificates;
using Gateway.Testing.Pki;

namespace Gateway.Tests.Certificates;

public sealed class CertificateResolverTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string Address = "bob@partner.test";

    private sealed class FakeSource(string name, Func<CertificateLookup> answer) : ICertificateSource
    {
        public int Calls { get; private set; }
        public string Name => name;

        public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
        {
            Calls++;
            return ValueTask.FromResult(answer());
        }
    }

    private static FakeSource Holding(string name, params TestIdentity[] identities) =>
        new(name, () => CertificateLookup.Found(identities.Select(i => new CertificateCandidate(i.PublicCertificate, name)).ToList()));

    private static FakeSource Down(string name) => new(name, () => CertificateLookup.Unavailable("LDAP server unavailable"));

    private static FakeSource Empty(string name) => new(name, () => CertificateLookup.None);

    [Fact]
    public async Task FirstSourceWithAUsableCertificate_Wins_AndLaterSourcesAreNotAsked()
    {
        var ldap = Down("ldap:corp");
        var resolver = new CertificateResolver([Empty("local"), Holding("cache", fixture.Bob), ldap], fixture.Trust());

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.True(choice.Found);
        Assert.Equal("cache", choice.Selected!.Source);
        Assert.Contains("from cache", choice.Reason);
        Assert.Null(choice.TemporaryFailure);
        Assert.Equal(0, ldap.Calls);
    }

    [Fact]
    public async Task UnusableCandidatesFromEverySource_AreListedWithTheirSource()
    {
        var expired = fixture.Pki.Issue(Address, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-30), NotAfter = DateTimeOffset.UtcNow.AddDays(-1) });
        var untrusted = fixture.Pki.Issue(Address, new CertificateOptions { FromUntrustedCa = true });
        var resolver = new CertificateResolver([Holding("local", expired), Holding("ldap:corp", untrusted)], fixture.Trust());

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.False(choice.Found);
        Assert.False(choice.Unavailable);
        Assert.Equal(2, choice.Rejected.Count);
        Assert.Contains(choice.Rejected, r => r.Contains("from local") && r.Contains("expired"));
        Assert.Contains(choice.Rejected, r => r.Contains("from ldap:corp") && r.Contains("trust anchor"));
    }

    [Fact]
    public async Task ASourceThatCannotAnswer_MakesNothingFoundATemporaryFailure_NotNoCertificate()
    {
        var resolver = new CertificateResolver([Empty("local"), Down("ldap:corp")], fixture.Trust());

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.False(choice.Found);
        Assert.True(choice.Unavailable);
        Assert.Equal("ldap:corp: LDAP server unavailable", choice.TemporaryFailure);
        Assert.Contains("not asked: ldap:corp", choice.Reason);
    }

    [Fact]
    public async Task ADownSource_DoesNotMatter_WhenALaterSourceHasAUsableCertificate()
    {
        var resolver = new CertificateResolver([Down("ldap:corp"), Holding("harvested", fixture.Bob)], fixture.Trust());

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.True(choice.Found);
        Assert.False(choice.Unavailable);
        Assert.Equal("harvested", choice.Selected!.Source);
    }

    [Fact]
    public async Task TheSameCertificateFromTwoSources_IsJudgedOnce_UnderTheFirstSourcesName()
    {
        var expired = fixture.Pki.Issue(Address, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-30), NotAfter = DateTimeOffset.UtcNow.AddDays(-1) });
        var resolver = new CertificateResolver([Holding("local", expired), Holding("cache", expired)], fixture.Trust());

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        var rejected = Assert.Single(choice.Rejected);
        Assert.Contains("from local", rejected);
    }
}
