using Gateway.Certificates;
using Gateway.Testing.Pki;

namespace Gateway.Tests.Certificates;

public sealed class CertificateSelectorTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string Address = "henry@partner.test";
    private static readonly DateTimeOffset Now = new(DateTimeOffset.UtcNow.Ticks / TimeSpan.TicksPerSecond * TimeSpan.TicksPerSecond, TimeSpan.Zero);

    private TestIdentity Issue(int issuedDaysAgo, int expiresInDays = 365, CertificateOptions? options = null) =>
        fixture.Pki.Issue(Address, (options ?? new CertificateOptions()) with
        {
            NotBefore = Now.AddDays(-issuedDaysAgo),
            NotAfter = Now.AddDays(expiresInDays),
        });

    private static CertificateCandidate Candidate(TestIdentity identity, string source) => new(identity.PublicCertificate, source);

    [Fact]
    public void TwoUsableCertificates_TheNewestWins_AndTheReasonSaysWhy()
    {
        var older = Issue(issuedDaysAgo: 200);
        var newer = Issue(issuedDaysAgo: 3);

        var choice = CertificateSelector.Select(
            [Candidate(newer, "local:new.crt"), Candidate(older, "local:old.crt")], Address, CertificateUsage.Encryption, fixture.Trust());
        var reversed = CertificateSelector.Select(
            [Candidate(older, "local:old.crt"), Candidate(newer, "local:new.crt")], Address, CertificateUsage.Encryption, fixture.Trust());

        Assert.True(choice.Found);
        Assert.Equal(newer.Certificate.Thumbprint, choice.Selected!.Certificate.Thumbprint);
        Assert.Equal("local:new.crt", choice.Selected.Source);
        Assert.Equal(newer.Certificate.Thumbprint, reversed.Selected!.Certificate.Thumbprint);
        Assert.StartsWith("newest of 2 usable certificates", choice.Reason);
        Assert.Contains("local:new.crt", choice.Reason);
        Assert.Contains($"{newer.Certificate.NotBefore.ToUniversalTime():u}", choice.Reason);
        Assert.Empty(choice.Rejected);
        Assert.Equal([newer.Certificate.Thumbprint], choice.ChainWithoutRoot.Select(c => c.Thumbprint));
    }

    [Fact]
    public void SameIssueDate_TheOneValidLongerWins()
    {
        var shorter = Issue(issuedDaysAgo: 10, expiresInDays: 30);
        var longer = Issue(issuedDaysAgo: 10, expiresInDays: 300);

        var choice = CertificateSelector.Select(
            [Candidate(shorter, "a"), Candidate(longer, "b")], Address, CertificateUsage.Encryption, fixture.Trust());

        Assert.Equal(longer.Certificate.Thumbprint, choice.Selected!.Certificate.Thumbprint);
    }

    [Fact]
    public void SameDates_TheChoiceIsDeterministic_ByThumbprint()
    {
        var one = Issue(issuedDaysAgo: 5, expiresInDays: 50);
        var two = Issue(issuedDaysAgo: 5, expiresInDays: 50);
        var expected = new[] { one, two }.Select(i => i.Certificate.Thumbprint).Order(StringComparer.Ordinal).First();

        var forward = CertificateSelector.Select([Candidate(one, "a"), Candidate(two, "b")], Address, CertificateUsage.Encryption, fixture.Trust());
        var backward = CertificateSelector.Select([Candidate(two, "b"), Candidate(one, "a")], Address, CertificateUsage.Encryption, fixture.Trust());

        Assert.Equal(expected, forward.Selected!.Certificate.Thumbprint);
        Assert.Equal(expected, backward.Selected!.Certificate.Thumbprint);
    }

    [Fact]
    public void NewerButUnusableCertificate_IsRejected_AndTheOlderUsableOneWins()
    {
        var usable = Issue(issuedDaysAgo: 100);
        var signOnly = Issue(issuedDaysAgo: 1, options: new CertificateOptions { KeyUsage = System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.DigitalSignature });

        var choice = CertificateSelector.Select(
            [Candidate(signOnly, "ldap"), Candidate(usable, "local:henry.crt")], Address, CertificateUsage.Encryption, fixture.Trust());

        Assert.Equal(usable.Certificate.Thumbprint, choice.Selected!.Certificate.Thumbprint);
        Assert.Equal("only usable certificate (from local:henry.crt)", choice.Reason);
        var rejected = Assert.Single(choice.Rejected);
        Assert.Equal($"{signOnly.Certificate.Thumbprint} from ldap: key usage does not allow keyEncipherment", rejected);
    }

    [Fact]
    public void AllCandidatesRejected_NothingIsSelected_AndEveryRejectionIsListed()
    {
        var expired = Issue(issuedDaysAgo: 400, expiresInDays: -1);
        var stranger = Issue(issuedDaysAgo: 1, options: new CertificateOptions { FromUntrustedCa = true });

        var choice = CertificateSelector.Select(
            [Candidate(expired, "local:old.crt"), Candidate(stranger, "harvest")], Address, CertificateUsage.Encryption, fixture.Trust());

        Assert.False(choice.Found);
        Assert.Null(choice.Selected);
        Assert.Empty(choice.ChainWithoutRoot);
        Assert.Equal($"no usable encryption certificate for {Address} (2 rejected)", choice.Reason);
        Assert.Equal(2, choice.Rejected.Count);
        Assert.StartsWith($"{expired.Certificate.Thumbprint} from local:old.crt: expired on ", choice.Rejected[0]);
        Assert.Equal($"{stranger.Certificate.Thumbprint} from harvest: chain: does not chain to a configured trust anchor", choice.Rejected[1]);
    }

    [Theory]
    [InlineData(CertificateUsage.Encryption, "no encryption certificate known for nobody@partner.test")]
    [InlineData(CertificateUsage.Signing, "no signing certificate known for nobody@partner.test")]
    public void NoCandidates_ReportsThatNoCertificateIsKnown(CertificateUsage usage, string reason)
    {
        var choice = CertificateSelector.Select([], "nobody@partner.test", usage, fixture.Trust());

        Assert.False(choice.Found);
        Assert.Equal(reason, choice.Reason);
        Assert.Empty(choice.Rejected);
        Assert.Empty(choice.ChainWithoutRoot);
    }

    [Fact]
    public void SelectedThroughIntermediate_CarriesTheChainWithoutRoot()
    {
        var intermediate = fixture.Pki.CreateIntermediate("Selector Intermediate");
        var identity = Issue(issuedDaysAgo: 1, options: new CertificateOptions { Issuer = intermediate });

        var choice = CertificateSelector.Select([Candidate(identity, "x")], Address, CertificateUsage.Signing, fixture.Trust(null, intermediate.Certificate));

        Assert.Equal([identity.Certificate.Thumbprint, intermediate.Certificate.Thumbprint], choice.ChainWithoutRoot.Select(c => c.Thumbprint));
    }
}
