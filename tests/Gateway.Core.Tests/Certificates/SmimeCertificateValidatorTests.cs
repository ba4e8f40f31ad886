using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Testing.Pki;

namespace Gateway.Tests.Certificates;

public sealed class SmimeCertificateValidatorTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private TestPki Pki => fixture.Pki;

    private static CertificateVerdict Validate(TestIdentity identity, CertificateUsage usage, TrustContext trust, string? address = null) =>
        SmimeCertificateValidator.Validate(identity.PublicCertificate, address ?? identity.Address, usage, trust);

    [Theory]
    [InlineData(CertificateUsage.Signing)]
    [InlineData(CertificateUsage.Encryption)]
    public void GoodCertificate_IsUsable_ForSigningAndEncryption(CertificateUsage usage)
    {
        var verdict = SmimeCertificateValidator.Validate(fixture.Alice.Certificate, "alice@example.test", usage, fixture.Trust());

        Assert.True(verdict.Usable, string.Join("; ", verdict.Problems));
        Assert.Empty(verdict.Problems);
        Assert.Same(fixture.Alice.Certificate, verdict.Certificate);
        Assert.Equal([fixture.Alice.Certificate.Thumbprint], verdict.ChainWithoutRoot.Select(c => c.Thumbprint));
    }

    [Fact]
    public void Certificate_BecomesExpired_WhenTheInjectedClockPassesNotAfter()
    {
        var notAfter = DateTimeOffset.UtcNow.AddDays(30);
        var identity = Pki.Issue("expiring@example.test", new CertificateOptions { NotAfter = notAfter });
        var clock = PkiFixture.Clock();
        var trust = fixture.Trust(clock);
        Assert.True(Validate(identity, CertificateUsage.Encryption, trust).Usable);

        clock.Advance(TimeSpan.FromDays(31));
        var verdict = Validate(identity, CertificateUsage.Encryption, trust);

        Assert.False(verdict.Usable);
        Assert.Equal($"expired on {identity.Certificate.NotAfter.ToUniversalTime():u}", verdict.Problems[0]);
        Assert.Empty(verdict.ChainWithoutRoot);
    }

    [Fact]
    public void NotYetValidCertificate_IsRejected_UntilItsNotBefore()
    {
        var identity = Pki.Issue("future@example.test", new CertificateOptions
        {
            NotBefore = DateTimeOffset.UtcNow.AddDays(10),
            NotAfter = DateTimeOffset.UtcNow.AddDays(400),
        });
        var clock = PkiFixture.Clock();
        var trust = fixture.Trust(clock);

        var early = Validate(identity, CertificateUsage.Signing, trust);
        clock.Advance(TimeSpan.FromDays(11));
        var later = Validate(identity, CertificateUsage.Signing, trust);

        Assert.False(early.Usable);
        Assert.Contains(early.Problems, p => p.StartsWith("not valid before ", StringComparison.Ordinal));
        Assert.True(later.Usable, string.Join("; ", later.Problems));
    }

    [Theory]
    [InlineData(CertificateUsage.Signing)]
    [InlineData(CertificateUsage.Encryption)]
    public void WithoutEmailProtectionEku_IsRejected(CertificateUsage usage)
    {
        var identity = Pki.Issue("noeku@example.test", new CertificateOptions { IncludeEmailProtectionEku = false });

        var verdict = Validate(identity, usage, fixture.Trust());

        Assert.Equal(["no emailProtection extended key usage"], verdict.Problems);
    }

    [Fact]
    public void KeyUsageWithoutKeyEncipherment_IsRejectedForEncryption_ButAcceptedForSigning()
    {
        var identity = Pki.Issue("signonly@example.test", new CertificateOptions { KeyUsage = X509KeyUsageFlags.DigitalSignature });
        var trust = fixture.Trust();

        var encryption = Validate(identity, CertificateUsage.Encryption, trust);
        var signing = Validate(identity, CertificateUsage.Signing, trust);

        Assert.Equal(["key usage does not allow keyEncipherment"], encryption.Problems);
        Assert.True(signing.Usable, string.Join("; ", signing.Problems));
    }

    [Fact]
    public void KeyUsageWithoutDigitalSignature_IsRejectedForSigning_ButAcceptedForEncryption()
    {
        var identity = Pki.Issue("encryptonly@example.test", new CertificateOptions { KeyUsage = X509KeyUsageFlags.KeyEncipherment });
        var trust = fixture.Trust();

        Assert.Equal(["key usage does not allow digitalSignature"], Validate(identity, CertificateUsage.Signing, trust).Problems);
        Assert.True(Validate(identity, CertificateUsage.Encryption, trust).Usable);
    }

    [Fact]
    public void NonRepudiationOnly_IsEnoughForSigning()
    {
        var identity = Pki.Issue("nr@example.test", new CertificateOptions { KeyUsage = X509KeyUsageFlags.NonRepudiation });

        Assert.True(Validate(identity, CertificateUsage.Signing, fixture.Trust()).Usable);
    }

    [Theory]
    [InlineData(CertificateUsage.Signing)]
    [InlineData(CertificateUsage.Encryption)]
    public void AbsentKeyUsage_AllowsEveryUsage(CertificateUsage usage)
    {
        var identity = Pki.Issue("anyusage@example.test", new CertificateOptions { KeyUsage = X509KeyUsageFlags.None });

        Assert.True(Validate(identity, usage, fixture.Trust()).Usable);
    }

    [Fact]
    public void AddressNotInSubjectAltName_IsRejected()
    {
        var verdict = Validate(fixture.Alice, CertificateUsage.Encryption, fixture.Trust(), address: "mallory@example.test");

        Assert.Equal(["mallory@example.test is not in its subjectAltName"], verdict.Problems);
    }

    [Fact]
    public void AddressOnlyInSubjectCommonName_IsRejected()
    {
        var identity = Pki.Issue("cn-only@example.test", new CertificateOptions { IncludeSubjectAltName = false });

        var verdict = Validate(identity, CertificateUsage.Encryption, fixture.Trust());

        Assert.Equal(["cn-only@example.test is not in its subjectAltName"], verdict.Problems);
        Assert.Empty(SmimeCertificateValidator.EmailAddresses(identity.Certificate));
    }

    [Fact]
    public void DomainCaseDiffers_IsAccepted()
    {
        var identity = Pki.Issue("dave@example.test", new CertificateOptions { SubjectAltNameEmail = "dave@EXAMPLE.Test" });

        Assert.Equal(["dave@EXAMPLE.Test"], SmimeCertificateValidator.EmailAddresses(identity.Certificate));
        Assert.True(Validate(identity, CertificateUsage.Encryption, fixture.Trust(), "dave@example.test").Usable);
    }

    /// <summary>
    /// Every lookup (folder, cache, LDAP) finds the certificate whatever the case of the local part;
    /// refusing it here sent mail to Bob.Smith@ in clear under ifPossible although bob.smith@'s
    /// certificate was on file. Thunderbird and Outlook ignore the case too.
    /// </summary>
    [Theory]
    [InlineData("Erin@example.test", "erin@example.test")]
    [InlineData("bob.smith@example.test", "Bob.Smith@example.test")]
    public void LocalPartCaseDiffers_IsAccepted(string inCertificate, string asked)
    {
        var identity = Pki.Issue(inCertificate.ToLowerInvariant(), new CertificateOptions { SubjectAltNameEmail = inCertificate });
        var trust = fixture.Trust();

        Assert.True(Validate(identity, CertificateUsage.Encryption, trust, asked).Usable);
        Assert.True(Validate(identity, CertificateUsage.Signing, trust, asked).Usable);
    }

    [Fact]
    public void LocalPartDifferingBeyondAsciiCase_IsRejected()
    {
        var identity = Pki.Issue("kelvin@example.test");

        var verdict = Validate(identity, CertificateUsage.Signing, fixture.Trust(), "\u212Aelvin@example.test");

        Assert.Equal(["\u212Aelvin@example.test is not in its subjectAltName"], verdict.Problems);
    }

    [Fact]
    public void UntrustedCa_IsRejected_AsNotChainingToAnAnchor()
    {
        var identity = Pki.Issue("stranger@example.test", new CertificateOptions { FromUntrustedCa = true });

        var verdict = Validate(identity, CertificateUsage.Encryption, fixture.Trust());

        Assert.Equal(["chain: does not chain to a configured trust anchor"], verdict.Problems);
        Assert.Empty(verdict.ChainWithoutRoot);
    }

    [Fact]
    public void UntrustedRootSuppliedAsIntermediate_IsStillNotAnAnchor()
    {
        var identity = Pki.Issue("stranger2@example.test", new CertificateOptions { FromUntrustedCa = true });

        var verdict = Validate(identity, CertificateUsage.Encryption, fixture.Trust(null, Pki.UntrustedRoot.Certificate));

        Assert.Contains("chain: does not chain to a configured trust anchor", verdict.Problems);
        Assert.False(verdict.Usable);
    }

    [Fact]
    public void ChainThroughIntermediate_IsAccepted_AndChainExcludesTheRoot()
    {
        var intermediate = Pki.CreateIntermediate();
        var identity = Pki.Issue("frank@example.test", new CertificateOptions { Issuer = intermediate });

        var verdict = Validate(identity, CertificateUsage.Encryption, fixture.Trust(null, intermediate.Certificate));

        Assert.True(verdict.Usable, string.Join("; ", verdict.Problems));
        Assert.Equal([identity.Certificate.Thumbprint, intermediate.Certificate.Thumbprint], verdict.ChainWithoutRoot.Select(c => c.Thumbprint));
    }

    [Fact]
    public void ChainThroughIntermediate_WithoutTheIntermediate_IsRejected()
    {
        var intermediate = Pki.CreateIntermediate("Unlisted Intermediate");
        var identity = Pki.Issue("grace@example.test", new CertificateOptions { Issuer = intermediate });

        var verdict = Validate(identity, CertificateUsage.Encryption, fixture.Trust());

        Assert.Equal(["chain: does not chain to a configured trust anchor"], verdict.Problems);
    }

    [Theory]
    [InlineData(CertificateUsage.Signing)]
    [InlineData(CertificateUsage.Encryption)]
    public void Rsa1024_IsRejectedAsTooWeak(CertificateUsage usage)
    {
        var identity = Pki.Issue("weak@example.test", new CertificateOptions { KeySize = 1024 });

        var verdict = Validate(identity, usage, fixture.Trust());

        Assert.Equal(["RSA key of 1024 bits is too weak (2048 at least)"], verdict.Problems);
    }
}
