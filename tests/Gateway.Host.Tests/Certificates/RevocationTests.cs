using System.Net;
using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Certificates;

/// <summary>
/// Revocation through real CRLs served over HTTP on loopback: a revoked certificate is never
/// used, a good one is, and an unreachable CRL is accepted under soft-fail and defers under hard-fail.
/// </summary>
public sealed class RevocationTests : IDisposable
{
    private readonly TestPki _pki = TestPki.Create();
    private readonly HttpListener _http = new();
    private readonly string _crlUrl;
    private byte[] _crl = [];
    private int _fetches;

    public RevocationTests()
    {
        var port = FreePort.Next();
        // A fresh path per test: .NET caches CRLs by URL until their next update.
        _crlUrl = $"http://127.0.0.1:{port}/{Guid.NewGuid():N}.crl";
        _http.Prefixes.Add($"http://127.0.0.1:{port}/");
        _http.Start();
        _ = Task.Run(ServeAsync);
    }

    public void Dispose()
    {
        _http.Close();
        _pki.Dispose();
    }

    private async Task ServeAsync()
    {
        while (_http.IsListening)
        {
            HttpListenerContext context;
            try { context = await _http.GetContextAsync(); } catch (Exception) { return; }
            Interlocked.Increment(ref _fetches);
            context.Response.ContentType = "application/pkix-crl";
            await context.Response.OutputStream.WriteAsync(_crl);
            context.Response.Close();
        }
    }

    private CertificateResolver Resolver(TestIdentity bob, RevocationMode mode)
    {
        var trust = new TrustContext(new X509Certificate2Collection(_pki.Root.Certificate), [], TimeProvider.System);
        var options = Options.Create(new GatewayOptions { Certificates = new CertificatesOptions { Revocation = new RevocationOptions { Mode = mode, Timeout = TimeSpan.FromSeconds(3) } } });
        return new CertificateResolver([new FixedCertificateSource(bob.PublicCertificate)], trust, new ChainRevocationChecker(options, trust));
    }

    [Fact]
    public async Task RevokedCertificate_IsNeverUsed_AndTheAuditReasonSaysRevoked()
    {
        var bob = _pki.Issue("bob@partner.test", new CertificateOptions { CrlDistributionUrl = _crlUrl });
        _crl = _pki.Root.CreateCrl(bob.PublicCertificate);
        var choice = await Resolver(bob, RevocationMode.SoftFail).FindRecipientAsync("bob@partner.test", default);
        Assert.False(choice.Found);
        Assert.Null(choice.TemporaryFailure);
        Assert.Contains(choice.Rejected, r => r.Contains("revoked", StringComparison.Ordinal) && r.StartsWith(bob.Certificate.Thumbprint, StringComparison.Ordinal));
        Assert.True(_fetches >= 1, "the CRL was never fetched");
    }

    [Fact]
    public async Task CertificateNotOnTheCrl_IsUsed_AfterTheCrlWasChecked()
    {
        var bob = _pki.Issue("bob@partner.test", new CertificateOptions { CrlDistributionUrl = _crlUrl });
        _crl = _pki.Root.CreateCrl();
        var choice = await Resolver(bob, RevocationMode.HardFail).FindRecipientAsync("bob@partner.test", default);
        Assert.True(choice.Found, choice.Reason);
        Assert.Contains("not revoked (CRL/OCSP checked)", choice.Reason);
        Assert.True(_fetches >= 1, "the CRL was never fetched");
    }

    [Fact]
    public async Task UnreachableCrl_IsAcceptedUnderSoftFail_AndMakesTheRecipientWaitUnderHardFail()
    {
        var unreachable = $"http://127.0.0.1:{FreePort.Next()}/{Guid.NewGuid():N}.crl";
        var bob = _pki.Issue("bob@partner.test", new CertificateOptions { CrlDistributionUrl = unreachable });

        var soft = await Resolver(bob, RevocationMode.SoftFail).FindRecipientAsync("bob@partner.test", default);
        Assert.True(soft.Found, soft.Reason);
        Assert.Contains("soft-fail", soft.Reason);

        var hard = await Resolver(bob, RevocationMode.HardFail).FindRecipientAsync("bob@partner.test", default);
        Assert.False(hard.Found);
        Assert.NotNull(hard.TemporaryFailure);
        Assert.Contains("revocation status", hard.TemporaryFailure);
        Assert.DoesNotContain("no revocation information published", soft.Reason);
    }

    [Fact]
    public async Task CertificateThatPublishesNoRevocationInformation_IsSaidToPublishNone_NotToHaveAnUnreachableCrl()
    {
        // No CRL distribution point and no OCSP responder: OpenSSL's words for it are "unable to get
        // certificate CRL", which reads like a fault of Gateway's or of the network.
        var bob = _pki.Issue("bob@partner.test");

        var soft = await Resolver(bob, RevocationMode.SoftFail).FindRecipientAsync("bob@partner.test", default);
        Assert.True(soft.Found, soft.Reason);
        Assert.Contains("no revocation information published (no CRL distribution point or OCSP responder), used under soft-fail", soft.Reason);
        Assert.DoesNotContain("unable to get", soft.Reason);

        // Hard-fail still never uses it: its status cannot be learned, whatever the reason.
        var hard = await Resolver(bob, RevocationMode.HardFail).FindRecipientAsync("bob@partner.test", default);
        Assert.False(hard.Found);
        Assert.NotNull(hard.TemporaryFailure);
        Assert.Contains("no revocation information published (no CRL distribution point or OCSP responder)", hard.TemporaryFailure);
        Assert.DoesNotContain("unable to get", hard.TemporaryFailure);
        Assert.Equal(0, _fetches);
    }

    [Fact]
    public async Task SilentCrlServer_IsLeftAloneForThreeTimeouts_ExceptForAMessagePastItsLookupGrace()
    {
        using var silent = new SilentServer();
        var url = $"http://127.0.0.1:{silent.Port}/{Guid.NewGuid():N}.crl";
        var bob = _pki.Issue("bob@partner.test", new CertificateOptions { CrlDistributionUrl = url });
        var carol = _pki.Issue("carol@partner.test", new CertificateOptions { CrlDistributionUrl = url });
        var trust = new TrustContext(new X509Certificate2Collection(_pki.Root.Certificate), [], TimeProvider.System);
        var timeout = TimeSpan.FromSeconds(2);
        var options = Options.Create(new GatewayOptions { Certificates = new CertificatesOptions { Revocation = new RevocationOptions { Mode = RevocationMode.HardFail, Timeout = timeout } } });
        var checker = new ChainRevocationChecker(options, trust);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        var first = await checker.CheckAsync(bob.PublicCertificate, [bob.PublicCertificate], default);
        Assert.Equal(RevocationStatus.Unavailable, first.Status);
        Assert.True(clock.Elapsed >= timeout / 2, $"the first check did not wait for the server ({clock.Elapsed})");
        Assert.True(silent.Connections >= 1, "the CRL server was never asked");
        var asked = silent.Connections;

        // Another certificate of the same issuer: answered from the cache at once, saying why.
        clock.Restart();
        var second = await checker.CheckAsync(carol.PublicCertificate, [carol.PublicCertificate], default);
        Assert.True(clock.Elapsed < timeout / 2, $"the second check waited for a server known to be silent ({clock.Elapsed})");
        Assert.Equal(RevocationStatus.Unavailable, second.Status);
        Assert.Contains("gave no usable answer", second.Detail);
        Assert.Contains("not asked again until", second.Detail);
        Assert.Equal(asked, silent.Connections);

        // Past its lookup grace the status decides the message: the server gets its chance again.
        using (FreshLookups.Begin())
        {
            clock.Restart();
            var fresh = await checker.CheckAsync(carol.PublicCertificate, [carol.PublicCertificate], default);
            Assert.True(clock.Elapsed >= timeout / 2, $"a message past its grace was answered from the outage ({clock.Elapsed})");
            Assert.DoesNotContain("not asked again", fresh.Detail);
        }
        Assert.True(silent.Connections > asked, "the CRL server was not asked for the message past its grace");
    }

    private ChainRevocationChecker Checker(RevocationMode mode, TimeSpan timeout, Microsoft.Extensions.Logging.ILogger<ChainRevocationChecker>? logger = null)
    {
        var trust = new TrustContext(new X509Certificate2Collection(_pki.Root.Certificate), [], TimeProvider.System);
        var options = Options.Create(new GatewayOptions { Certificates = new CertificatesOptions { Revocation = new RevocationOptions { Mode = mode, Timeout = timeout } } });
        return new ChainRevocationChecker(options, trust, logger);
    }

    /// <summary>
    /// One issuer, two CRL locations: carol's answers, bob's is silent. While bob's issuer is left
    /// alone, carol's status from the cache stands: she is not deferred for bob's server.
    /// </summary>
    [Fact]
    public async Task ACachedGoodStatus_StandsWhileTheIssuersOtherServerIsLeftAlone()
    {
        using var silent = new SilentServer();
        var carol = _pki.Issue("carol@partner.test", new CertificateOptions { CrlDistributionUrl = _crlUrl });
        var bob = _pki.Issue("bob@partner.test", new CertificateOptions { CrlDistributionUrl = $"http://127.0.0.1:{silent.Port}/{Guid.NewGuid():N}.crl" });
        _crl = _pki.Root.CreateCrl();
        var checker = Checker(RevocationMode.HardFail, TimeSpan.FromSeconds(2));

        Assert.Equal(RevocationStatus.Good, (await checker.CheckAsync(carol.PublicCertificate, [carol.PublicCertificate], default)).Status);
        var fetched = _fetches;
        Assert.Equal(RevocationStatus.Unavailable, (await checker.CheckAsync(bob.PublicCertificate, [bob.PublicCertificate], default)).Status);
        var again = await checker.CheckAsync(carol.PublicCertificate, [carol.PublicCertificate], default);

        Assert.Equal(RevocationStatus.Good, again.Status);
        Assert.Equal(fetched, _fetches);
    }

    /// <summary>
    /// A burst of checks of one issuer's certificates against its silent server: 4 ask it, the
    /// others wait for their answer and take it, and the outage is logged once, not per check.
    /// </summary>
    [Fact]
    public async Task ABurstOfChecksAgainstASilentServer_AsksItFourTimes_AndLogsTheOutageOnce()
    {
        using var silent = new SilentServer();
        var url = $"http://127.0.0.1:{silent.Port}/{Guid.NewGuid():N}.crl";
        var subjects = Enumerable.Range(0, 16).Select(i => _pki.Issue($"r{i}@partner.test", new CertificateOptions { CrlDistributionUrl = url })).ToList();
        var log = new CapturedLog();
        var checker = Checker(RevocationMode.SoftFail, TimeSpan.FromSeconds(2), new Microsoft.Extensions.Logging.Logger<ChainRevocationChecker>(new Microsoft.Extensions.Logging.LoggerFactory([log])));

        var verdicts = await Task.WhenAll(subjects.Select(s => checker.CheckAsync(s.PublicCertificate, [s.PublicCertificate], default).AsTask()));

        Assert.All(verdicts, v => Assert.True(v.SoftFailed, v.Detail));
        Assert.Equal(4, silent.Connections);
        Assert.Equal(12, verdicts.Count(v => v.Detail.Contains("not asked again until", StringComparison.Ordinal)));
        Assert.Single(log.Events(4012));
    }
}
