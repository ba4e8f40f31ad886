using System.Security.Cryptography.X509Certificates;
using Gateway.Audit;
using Gateway.Ca;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Ca;

/// <summary>The CA against independent tools (openssl verify, openssl crl) and a controlled clock.</summary>
public sealed class BuiltInCertificateAuthorityTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gateway-ca-").FullName;
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);
    private readonly CaFixture.RecordingAudit _audit = new();
    private readonly IOptions<GatewayOptions> _options;
    private readonly BuiltInCertificateAuthority _ca;

    public BuiltInCertificateAuthorityTests()
    {
        _options = Options.Create(new GatewayOptions
        {
            Ca = new CaOptions { Enabled = true, Path = Path.Combine(_root, "ca"), EligibleSenders = ["example.test", "bücher.example"], Password = "ca-test-password", ValidityDays = 365, RenewBeforeDays = 30 },
        });
        _ca = new BuiltInCertificateAuthority(_options, _time, _audit);
    }

    public void Dispose() => Directory.Delete(_root, recursive: true);

    private EnrollingCertificateDirectory Enrolling() =>
        new(new CaFixture.EmptyDirectory(), new CertificateEnrolment(_ca, _options, _time, _audit, NullLogger<CertificateEnrolment>.Instance), new SenderEligibility(_options, _time, NullLogger<SenderEligibility>.Instance),
            _audit, NullLogger<EnrollingCertificateDirectory>.Instance);

    private async Task<string> WritePemAsync(X509Certificate2 certificate, string name)
    {
        var path = Path.Combine(_root, name);
        await File.WriteAllTextAsync(path, certificate.ExportCertificatePem());
        return path;
    }

    [Theory]
    [InlineData("smimesign")]
    [InlineData("smimeencrypt")]
    public async Task IssuedCertificate_PassesOpenSslVerify_ForSmimePurposes(string purpose)
    {
        var identity = await _ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        var ca = await WritePemAsync(_ca.Certificate, "ca.pem");
        var leaf = await WritePemAsync(identity.Certificate, "leaf.pem");
        var result = await ToolProcess.RunAsync("openssl", ["verify", "-x509_strict", "-CAfile", ca, "-purpose", purpose, leaf]);
        Assert.True(result.Succeeded, result.Stdout + result.Stderr);
        Assert.True(identity.Certificate.HasPrivateKey);
        Assert.Contains(_audit.Events, e => e.Event == "certificate-issued" && e.Recipient == "frank@example.test" && e.Serial == identity.Serial && e.Issuer == _ca.Name);
    }

    /// <summary>
    /// Recipient lookups ask which certificates the CA issued to an address (no copy is encrypted to
    /// them): read from the certificate files, no key decrypted; a key without its certificate file
    /// is read whole, and a damaged one is left out while the others still count.
    /// </summary>
    [Fact]
    public async Task CertificatesIssuedTo_AreReadWithoutTheirKeys_AndADamagedIdentityLeavesTheOthers()
    {
        var first = await _ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        var second = await _ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        var third = await _ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        File.Delete(Path.ChangeExtension(second.File, ".crt"));
        File.Delete(Path.ChangeExtension(third.File, ".crt"));
        await File.WriteAllBytesAsync(third.File, (await File.ReadAllBytesAsync(third.File))[..100]);
        var fresh = new BuiltInCertificateAuthority(_options, _time, _audit); // nothing decrypted yet

        var certificates = fresh.CertificatesIssuedTo("Frank@example.test");

        Assert.Equal(new[] { first.Certificate.Thumbprint, second.Certificate.Thumbprint }.Order(), certificates.Select(c => c.Thumbprint).Order());
        Assert.False(certificates.Single(c => c.Thumbprint == first.Certificate.Thumbprint).HasPrivateKey);
        Assert.Empty(fresh.CertificatesIssuedTo("nobody@example.test"));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Keys_AreStoredEncryptedAndReadableByTheServiceOnly()
    {
        var identity = await _ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        foreach (var file in new[] { identity.File, Path.Combine(_options.Value.Ca.Path, "ca.p12") })
        {
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(file));
            Assert.ThrowsAny<System.Security.Cryptography.CryptographicException>(() => X509CertificateLoader.LoadPkcs12FromFile(file, "wrong"));
            Assert.DoesNotContain("PRIVATE KEY", await File.ReadAllTextAsync(file));
        }
    }

    [Fact]
    public async Task RevokedCertificate_IsInTheCrl_AndNoLongerUsedForSigning()
    {
        var directory = Enrolling();
        var first = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);
        Assert.True(first.Found, first.Reason);
        var serial = first.Selected!.Certificate.SerialNumber;

        var revoked = await _ca.RevokeAsync("frank@example.test", X509RevocationReason.KeyCompromise, CancellationToken.None);
        Assert.Equal(serial, Assert.Single(revoked).Serial);
        var crl = await ToolProcess.RunAsync("openssl", ["crl", "-inform", "DER", "-in", _ca.CrlFile, "-noout", "-text"]);
        Assert.True(crl.Succeeded, crl.Stderr);
        Assert.Contains($"Serial Number: {serial}", crl.Stdout, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Key Compromise", crl.Stdout);

        var next = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);
        Assert.True(next.Found, next.Reason);
        Assert.NotEqual(serial, next.Selected!.Certificate.SerialNumber);
    }

    [Fact]
    public async Task CertificateCloseToExpiry_IsRenewed_AndTheOldKeyIsKeptForOlderMail()
    {
        var directory = Enrolling();
        var first = (await directory.FindSignerAsync("frank@example.test", CancellationToken.None)).Selected!.Certificate;
        _time.Advance(TimeSpan.FromDays(300));
        Assert.Equal(first.Thumbprint, (await directory.FindSignerAsync("frank@example.test", CancellationToken.None)).Selected!.Certificate.Thumbprint);

        _time.Advance(TimeSpan.FromDays(40)); // 25 days before expiry: inside RenewBeforeDays
        var renewed = (await directory.FindSignerAsync("frank@example.test", CancellationToken.None)).Selected!.Certificate;
        Assert.NotEqual(first.Thumbprint, renewed.Thumbprint);
        Assert.True(renewed.NotAfter > first.NotAfter);
        Assert.Equal(2, _ca.IssuedTo("frank@example.test").Count);
        Assert.Contains(_audit.Events, e => e.Event == "certificate-issued" && e.Action!.StartsWith("renewal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SenderOutsideTheEligibleDomains_GetsNoCertificate()
    {
        var directory = Enrolling();
        Assert.False((await directory.FindSignerAsync("someone@elsewhere.test", CancellationToken.None)).Found);
        Assert.Empty(_ca.IssuedTo("someone@elsewhere.test"));
    }

    [Fact]
    public async Task ManyWorkersAskingAtOnce_EnrolTheSenderOnce()
    {
        var directory = Enrolling();
        var choices = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => directory.FindSignerAsync("frank@example.test", CancellationToken.None).AsTask()));
        Assert.Single(choices.Select(c => c.Selected!.Certificate.Thumbprint).Distinct());
        Assert.Single(_ca.IssuedTo("frank@example.test"));
    }

    /// <summary>
    /// Exchange writes Frank@ where the sender's client writes frank@: the certificate issued for the
    /// first spelling is the other's too, not a reason to issue a second one at every change of case.
    /// </summary>
    [Fact]
    public async Task ASenderSpelledInAnotherCase_UsesTheCertificateAlreadyIssued()
    {
        var directory = Enrolling();
        var first = await directory.FindSignerAsync("Frank@example.test", CancellationToken.None);
        Assert.True(first.Found, first.Reason);

        var second = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);

        Assert.True(second.Found, second.Reason);
        Assert.Equal(first.Selected!.Certificate.Thumbprint, second.Selected!.Certificate.Thumbprint);
        Assert.Single(_ca.IssuedTo("frank@example.test"));
    }

    [Fact]
    public async Task TheGatewayAndACaIssueCommandAtOnce_EnrolTheSenderOnce()
    {
        // Two enrolments with their own CA objects, as the running gateway and `gateway ca issue --all`
        // in another process: only the lock in the CA's folder keeps them from both issuing.
        var cli = new CertificateEnrolment(new BuiltInCertificateAuthority(_options, _time, _audit), _options, _time, _audit, NullLogger<CertificateEnrolment>.Instance);
        var service = new CertificateEnrolment(_ca, _options, _time, _audit, NullLogger<CertificateEnrolment>.Instance);

        var results = await Task.WhenAll(
            Task.Run(() => service.EnsureAsync("grace@example.test", "first mail", CancellationToken.None)),
            Task.Run(() => cli.EnsureAsync("grace@example.test", "gateway ca issue --all", CancellationToken.None)));

        Assert.Single(_ca.IssuedTo("grace@example.test"));
        Assert.Single(results, r => r.Outcome == EnrolmentOutcome.Issued);
        Assert.Single(results, r => r.Outcome == EnrolmentOutcome.AlreadyValid);
    }

    [Fact]
    public async Task AnotherProcessRevokingAnAddress_RevokesEachOfItsCertificatesOnce()
    {
        var issued = await _ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        var cli = new BuiltInCertificateAuthority(_options, _time, _audit); // as `gateway ca revoke` would, in its own process
        Assert.Single(cli.IssuedTo("frank@example.test"));

        var revoked = await cli.RevokeAsync("frank@example.test", X509RevocationReason.KeyCompromise, CancellationToken.None);

        Assert.Equal(issued.Serial, Assert.Single(revoked).Serial);
        Assert.Single(_audit.Events, e => e.Event == "certificate-revoked");
    }

    [Fact]
    public async Task TwoProcessesMeetingTheirFirstSendersAtOnce_CreateOneCa_TheOneOnDisk()
    {
        // The service enrolling a first sender while an admin runs `gateway ca issue` on a fresh install.
        var other = new BuiltInCertificateAuthority(_options, _time, _audit);
        using var together = new Barrier(2);

        var issued = await Task.WhenAll(
            Task.Run(() => { together.SignalAndWait(); return _ca.IssueAsync("frank@example.test", "first mail", CancellationToken.None); }),
            Task.Run(() => { together.SignalAndWait(); return other.IssueAsync("grace@example.test", "gateway ca issue", CancellationToken.None); }));

        var onDisk = new CaFolder(Path.GetFullPath(_options.Value.Ca.Path), _options.Value.Ca.Password!).Load()[0];
        Assert.Equal(onDisk.Thumbprint, _ca.Certificate.Thumbprint);
        Assert.Equal(onDisk.Thumbprint, other.Certificate.Thumbprint);
        Assert.All(issued, i => Assert.Equal(
            onDisk.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Single().SubjectKeyIdentifier,
            Convert.ToHexString(i.Certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().Single().KeyIdentifier!.Value.Span)));
    }

    private void SetClockTo(DateTime utc) => _time.SetUtcNow(new DateTimeOffset(utc.ToUniversalTime(), TimeSpan.Zero));

    [Fact]
    public async Task CaEndingWithinRenewBeforeDays_RenewsNoCertificateThatCouldNotEndLater_AndWarnsOncePerDay()
    {
        var directory = Enrolling();
        SetClockTo(_ca.Certificate.NotAfter.AddDays(-20)); // created now, 10 years: 20 days left, inside RenewBeforeDays (30)

        var first = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);
        Assert.True(first.Found, first.Reason);
        Assert.Equal(_ca.Certificate.NotAfter, first.Selected!.Certificate.NotAfter); // capped at the CA's end
        for (var i = 0; i < 5; i++)
        {
            _time.Advance(TimeSpan.FromHours(1));
            var again = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);
            Assert.Equal(first.Selected.Certificate.Thumbprint, again.Selected!.Certificate.Thumbprint);
        }

        Assert.Single(_ca.IssuedTo("frank@example.test"));
        Assert.Single(_audit.Events, e => e.Event == "certificate-issued");
        var warning = Assert.Single(_audit.Events, e => e.Event == "ca-expiring");
        Assert.Equal(_ca.Name, warning.Issuer);
        _time.Advance(TimeSpan.FromDays(1));
        await directory.FindSignerAsync("frank@example.test", CancellationToken.None);
        Assert.Equal(2, _audit.Events.Count(e => e.Event == "ca-expiring"));
    }

    [Fact]
    public async Task AnExpiredCa_IssuesNothing_TheSenderGoesWithoutAndTheCommandSaysWhich()
    {
        var directory = Enrolling();
        SetClockTo(_ca.Certificate.NotAfter.AddDays(1));

        var choice = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);
        var refused = await Assert.ThrowsAnyAsync<Exception>(() => _ca.IssueAsync("frank@example.test", "test", CancellationToken.None));

        Assert.False(choice.Found);
        Assert.Contains("expired", choice.Reason);
        Assert.Contains(Path.Combine(Path.GetFullPath(_options.Value.Ca.Path), "ca.p12"), refused.Message);
        Assert.Contains("expired", refused.Message);
        Assert.Empty(_ca.IssuedTo("frank@example.test"));
    }

    [Fact]
    public async Task RevokingOneAddressOrSerial_OpensOnlyThatAddressesKeys()
    {
        var frank = await _ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        var grace = await _ca.IssueAsync("grace@example.test", "test", CancellationToken.None);
        await File.WriteAllTextAsync(grace.File, "not a PKCS#12 file: revoking someone else must not open it");
        var cli = new BuiltInCertificateAuthority(_options, _time, _audit); // a fresh process: nothing decrypted yet

        var bySerial = await cli.RevokeAsync(frank.Serial.ToLowerInvariant(), X509RevocationReason.Superseded, CancellationToken.None);
        var second = await _ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        var byAddress = await new BuiltInCertificateAuthority(_options, _time, _audit).RevokeAsync("Frank@example.test", X509RevocationReason.KeyCompromise, CancellationToken.None);

        Assert.Equal(frank.Serial, Assert.Single(bySerial).Serial);
        Assert.Equal(second.Serial, Assert.Single(byAddress).Serial);
    }

    [Fact]
    public async Task EligibleSenderWithANonAsciiLocalPart_IsDeclinedWithAReason_NotAFailure()
    {
        // No rfc822Name can hold "jörg": the sender goes on without an identity and the policy decides.
        var choice = await Enrolling().FindSignerAsync("jörg@example.test", CancellationToken.None);

        Assert.False(choice.Found);
        Assert.Null(choice.TemporaryFailure);
        Assert.Empty(_ca.IssuedTo("jörg@example.test"));
        var skipped = Assert.Single(_audit.Events, e => e.Event == "enrolment-skipped");
        Assert.Contains("not ASCII", skipped.Reason);
    }

    [Fact]
    public async Task EligibleSenderAtAnIdnDomain_IsEnrolledOnce_WithTheALabelInTheCertificate()
    {
        var directory = Enrolling();
        var first = await directory.FindSignerAsync("joerg@bücher.example", CancellationToken.None);
        var again = await directory.FindSignerAsync("joerg@bücher.example", CancellationToken.None);

        Assert.True(first.Found, first.Reason);
        Assert.Equal(["joerg@xn--bcher-kva.example"], SmimeCertificateValidator.EmailAddresses(first.Selected!.Certificate));
        Assert.Equal(first.Selected.Certificate.Thumbprint, again.Selected!.Certificate.Thumbprint);
        Assert.Single(_ca.IssuedTo("joerg@bücher.example"));
    }

    /// <summary>
    /// Mail to him from an MTA without SMTPUTF8 names the A-label: his key must be found for it
    /// (inbound decryption), and a sender written so must get the same identity, not a second one.
    /// </summary>
    [Fact]
    public async Task SenderAtAnIdnDomain_IsOneIdentity_WhicheverSpellingOfTheDomain()
    {
        var directory = Enrolling();
        var unicode = await directory.FindSignerAsync("joerg@bücher.example", CancellationToken.None);
        var ascii = await Enrolling().FindSignerAsync("Joerg@xn--bcher-kva.example", CancellationToken.None);

        Assert.True(ascii.Found, ascii.Reason);
        Assert.Equal(unicode.Selected!.Certificate.Thumbprint, ascii.Selected!.Certificate.Thumbprint);
        Assert.Single(_ca.IssuedTo("joerg@xn--bcher-kva.example"));
    }
}
