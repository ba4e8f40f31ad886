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

    /// <summary>Revocation answers by thumbprint; Good for any other.</summary>
    private sealed class ScriptedChecker(Dictionary<string, RevocationVerdict> verdicts) : IRevocationChecker
    {
        public int Calls;

        public ValueTask<RevocationVerdict> CheckAsync(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate,
            IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> chainWithoutRoot, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return ValueTask.FromResult(verdicts.GetValueOrDefault(certificate.Thumbprint) ?? RevocationVerdict.Good());
        }
    }

    private TestIdentity IssuedDaysAgo(int days) =>
        fixture.Pki.Issue(Address, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-days), NotAfter = DateTimeOffset.UtcNow.AddDays(300) });

    [Fact]
    public async Task EncryptsToEveryCurrentCertificate_NewestFirst_UpToTheLimit()
    {
        var oldest = IssuedDaysAgo(30);
        var older = IssuedDaysAgo(20);
        var newest = IssuedDaysAgo(10);
        var all = new CertificateResolver([Holding("ldap:corp", oldest, newest, older)], fixture.Trust(), maxEncryptionCertificates: 4);
        var two = new CertificateResolver([Holding("ldap:corp", oldest, newest, older)], fixture.Trust(), maxEncryptionCertificates: 2);
        var one = new CertificateResolver([Holding("ldap:corp", oldest, newest, older)], fixture.Trust());

        var toAll = await all.FindRecipientAsync(Address, CancellationToken.None);
        var toTwo = await two.FindRecipientAsync(Address, CancellationToken.None);
        var toOne = await one.FindRecipientAsync(Address, CancellationToken.None);

        Assert.Equal([newest.Certificate.Thumbprint, older.Certificate.Thumbprint, oldest.Certificate.Thumbprint], toAll.ForEncryption.Select(c => c.Thumbprint));
        Assert.Contains("also encrypted to 2 other current certificate(s)", toAll.Reason);
        Assert.Equal([newest.Certificate.Thumbprint, older.Certificate.Thumbprint], toTwo.ForEncryption.Select(c => c.Thumbprint));
        Assert.Equal([newest.Certificate.Thumbprint], toOne.ForEncryption.Select(c => c.Thumbprint));
    }

    [Fact]
    public async Task SigningUsesTheNewestIdentityOnly()
    {
        var older = IssuedDaysAgo(20);
        var newest = IssuedDaysAgo(10);
        var resolver = new CertificateResolver([Holding("local", older, newest)], fixture.Trust(), maxEncryptionCertificates: 4);

        var signer = await resolver.FindSignerAsync(Address, CancellationToken.None);

        Assert.Equal(newest.Certificate.Thumbprint, signer.Selected!.Certificate.Thumbprint);
        Assert.Empty(signer.AlsoUsable);
    }

    private sealed class Held(params TestIdentity[] identities) : IHeldIdentities
    {
        public IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> CertificatesFor(string address) =>
            identities.Where(i => i.Address == address).Select(i => i.Certificate).ToList();
    }

    [Fact]
    public async Task ACertificateWhoseKeyGatewayHolds_IsNotEncryptedTo_AndAnotherOneIs()
    {
        var own = IssuedDaysAgo(5);
        var users = IssuedDaysAgo(10);
        var resolver = new CertificateResolver([Holding("cache", own, users)], fixture.Trust(), maxEncryptionCertificates: 4, held: new Held(own));

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.Equal([users.Certificate.Thumbprint], choice.ForEncryption.Select(c => c.Thumbprint));
        Assert.Contains(choice.Rejected, r => r.StartsWith($"{own.Certificate.Thumbprint} from cache: its key is one of Gateway's own identities", StringComparison.Ordinal));
    }

    /// <summary>The same key re-certified, its AlgorithmIdentifier written without NULL parameters: other SubjectPublicKeyInfo bytes, still Gateway's key.</summary>
    [Fact]
    public async Task ACertificateForTheSameKey_EncodedOtherwise_IsNotEncryptedToEither()
    {
        var own = IssuedDaysAgo(5);
        using var key = System.Security.Cryptography.X509Certificates.RSACertificateExtensions.GetRSAPrivateKey(own.Certificate)!;
        var sameKey = fixture.Pki.Issue(Address, new CertificateOptions { ReusedRsaKey = key, OmitRsaAlgorithmParameters = true });
        Assert.False(sameKey.Certificate.PublicKey.ExportSubjectPublicKeyInfo().AsSpan().SequenceEqual(own.Certificate.PublicKey.ExportSubjectPublicKeyInfo()));
        var resolver = new CertificateResolver([Holding("cache", sameKey)], fixture.Trust(), held: new Held(own));

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.False(choice.Found, choice.Reason);
        Assert.Contains(choice.Rejected, r => r.StartsWith($"{sameKey.Certificate.Thumbprint} from cache: its key is one of Gateway's own identities", StringComparison.Ordinal));
    }

    private sealed class Unreadable : IHeldIdentities
    {
        public IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2> CertificatesFor(string address) =>
            throw new System.Security.Cryptography.CryptographicException("The certificate data cannot be read with the provided password");
    }

    [Fact]
    public async Task OwnIdentitiesThatCannotBeRead_DoNotStopTheLookup()
    {
        var resolver = new CertificateResolver([Holding("cache", fixture.Bob)], fixture.Trust(), held: new Unreadable());

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.Equal(fixture.Bob.Certificate.Thumbprint, choice.Selected?.Certificate.Thumbprint);
    }

    [Fact]
    public async Task ADualUseSigner_IsNamedForReplies()
    {
        var resolver = new CertificateResolver([Holding("local", fixture.Bob)], fixture.Trust());

        var signer = await resolver.FindSignerAsync(Address, CancellationToken.None);

        Assert.Equal(fixture.Bob.Certificate.Thumbprint, Assert.Single(signer.ReplyChain!).Thumbprint);
    }

    [Fact]
    public async Task ASigningOnlyIdentity_NamesTheSendersEncryptionCertificateForReplies()
    {
        var signing = fixture.Pki.Issue(Address, new CertificateOptions { KeyUsage = System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.DigitalSignature });
        var encryption = fixture.Pki.Issue(Address, new CertificateOptions { KeyUsage = System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyEncipherment });
        var resolver = new CertificateResolver([Holding("local", signing, encryption)], fixture.Trust());

        var signer = await resolver.FindSignerAsync(Address, CancellationToken.None);

        Assert.Equal(signing.Certificate.Thumbprint, signer.Selected!.Certificate.Thumbprint);
        Assert.Equal(encryption.Certificate.Thumbprint, Assert.Single(signer.ReplyChain!).Thumbprint);
        Assert.Contains($"its key only signs: replies are to be encrypted to {encryption.Certificate.Thumbprint} from local", signer.Reason);
    }

    [Fact]
    public async Task ASigningOnlyIdentity_WithoutAnEncryptionCertificate_NamesNoneForReplies()
    {
        var signing = fixture.Pki.Issue(Address, new CertificateOptions { KeyUsage = System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.DigitalSignature });
        var resolver = new CertificateResolver([Holding("local", signing)], fixture.Trust());

        var signer = await resolver.FindSignerAsync(Address, CancellationToken.None);

        Assert.True(signer.Found);
        Assert.Empty(signer.ReplyChain!);
        Assert.Contains("its key only signs and no certificate to encrypt to", signer.Reason);
    }

    [Fact]
    public async Task ARevokedOtherCertificate_IsRejected_NotEncryptedTo()
    {
        var older = IssuedDaysAgo(20);
        var newest = IssuedDaysAgo(10);
        var checker = new ScriptedChecker(new() { [older.Certificate.Thumbprint] = new RevocationVerdict(RevocationStatus.Revoked, "keyCompromise") });
        var resolver = new CertificateResolver([Holding("ldap:corp", older, newest)], fixture.Trust(), checker, maxEncryptionCertificates: 4);

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.Equal([newest.Certificate.Thumbprint], choice.ForEncryption.Select(c => c.Thumbprint));
        Assert.Contains(choice.Rejected, r => r.StartsWith(older.Certificate.Thumbprint, StringComparison.Ordinal) && r.Contains("revoked (keyCompromise)"));
    }

    [Theory]
    [InlineData(false)] // hard-fail: left out, the chosen certificate (checked) is enough
    [InlineData(true)]  // soft-fail: used, as the chosen certificate would be
    public async Task AnOtherCertificateWhoseRevocationStatusIsUnknown_FollowsTheMode_AndTheReasonSaysSo(bool softFail)
    {
        var older = IssuedDaysAgo(20);
        var newest = IssuedDaysAgo(10);
        var unknown = softFail
            ? RevocationVerdict.Good("revocation status unknown, used under soft-fail (CRL unreachable)") with { SoftFailed = true }
            : new RevocationVerdict(RevocationStatus.Unavailable, "CRL unreachable");
        var resolver = new CertificateResolver([Holding("ldap:corp", older, newest)], fixture.Trust(),
            new ScriptedChecker(new() { [older.Certificate.Thumbprint] = unknown }), maxEncryptionCertificates: 4);

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        if (softFail)
        {
            Assert.Equal([newest.Certificate.Thumbprint, older.Certificate.Thumbprint], choice.ForEncryption.Select(c => c.Thumbprint));
            Assert.Contains($"{older.Certificate.Thumbprint}: revocation status unknown, used under soft-fail", choice.Reason);
        }
        else
        {
            Assert.Equal([newest.Certificate.Thumbprint], choice.ForEncryption.Select(c => c.Thumbprint));
            Assert.Contains($"{older.Certificate.Thumbprint} left out: revocation status unknown", choice.Reason);
        }
    }

    [Fact]
    public async Task UnderHardFail_ANewestCertificateOfUnknownStatus_IsPassedOver_ForAnOlderOneFromAnotherCaKnownGood_AndWithNoneKnownTheRecipientWaits()
    {
        // The older one from another CA (an intermediate), whose status service answers.
        var otherCa = fixture.Pki.CreateIntermediate("Gateway Test Other Intermediate CA");
        var older = fixture.Pki.Issue(Address, new CertificateOptions { Issuer = otherCa, NotBefore = DateTimeOffset.UtcNow.AddDays(-20), NotAfter = DateTimeOffset.UtcNow.AddDays(300) });
        var newest = IssuedDaysAgo(10);
        var unknown = new RevocationVerdict(RevocationStatus.Unavailable, "CRL unreachable");
        var checker = new ScriptedChecker(new() { [newest.Certificate.Thumbprint] = unknown });
        var trust = fixture.Trust(null, otherCa.Certificate);
        var both = new CertificateResolver([Holding("ldap:corp", older, newest)], trust, checker, maxEncryptionCertificates: 4);
        var newestOnly = new CertificateResolver([Holding("ldap:corp", newest)], trust, checker, maxEncryptionCertificates: 4);

        var choice = await both.FindRecipientAsync(Address, CancellationToken.None);
        var waits = await newestOnly.FindRecipientAsync(Address, CancellationToken.None);

        Assert.Equal([older.Certificate.Thumbprint], choice.ForEncryption.Select(c => c.Thumbprint));
        Assert.Contains($"passed over: revocation status of {newest.Certificate.Thumbprint} unknown: CRL unreachable", choice.Reason);
        Assert.False(waits.Found);
        Assert.True(waits.Unavailable);
    }

    [Fact]
    public async Task UnderHardFail_AnIssuerThatDidNotAnswer_IsNotAskedAgainForTheNextCertificate()
    {
        var older = IssuedDaysAgo(20);
        var newest = IssuedDaysAgo(10);
        var unknown = new RevocationVerdict(RevocationStatus.Unavailable, "CRL unreachable");
        var checker = new ScriptedChecker(new() { [newest.Certificate.Thumbprint] = unknown, [older.Certificate.Thumbprint] = unknown });
        var resolver = new CertificateResolver([Holding("ldap:corp", older, newest)], fixture.Trust(), checker, maxEncryptionCertificates: 4);

        var choice = await resolver.FindRecipientAsync(Address, CancellationToken.None);

        Assert.True(choice.Unavailable);
        Assert.Equal(1, checker.Calls); // the same CA: one timeout, not one per certificate
    }
}
