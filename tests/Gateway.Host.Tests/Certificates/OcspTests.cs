using System.Globalization;
using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Certificates;

/// <summary>
/// Revocation against a real OCSP responder: `openssl ocsp` answering from an index the test
/// writes (OpenSSL 3.0 takes only a port and binds every interface; the gateway asks it on 127.0.0.1).
/// </summary>
public sealed class OcspTests : IAsyncLifetime
{
    private readonly TestPki _pki = TestPki.Create();
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-ocsp-").FullName;
    private readonly int _port = FreePort.Next();
    private System.Diagnostics.Process? _responder;
    private TestIdentity _good = null!;
    private TestIdentity _revoked = null!;
    private readonly System.Text.StringBuilder _log = new();

    public async Task InitializeAsync()
    {
        // No trailing slash: the client appends "/" and the request, and OpenSSL's responder refuses "//".
        var url = $"http://127.0.0.1:{_port}";
        _good = _pki.Issue("good@partner.test", new CertificateOptions { OcspUrl = url });
        _revoked = _pki.Issue("revoked@partner.test", new CertificateOptions { OcspUrl = url });
        File.WriteAllText(Path.Combine(_folder, "ca.crt"), _pki.Root.CertificatePem);
        File.WriteAllText(Path.Combine(_folder, "ca.key"), _pki.Root.PrivateKeyPem);
        File.WriteAllLines(Path.Combine(_folder, "index.txt"), [Entry(_good.Certificate, null), Entry(_revoked.Certificate, DateTimeOffset.UtcNow.AddMinutes(-10))]);

        var start = new System.Diagnostics.ProcessStartInfo(ToolProcess.Require("openssl")) { RedirectStandardError = true, RedirectStandardOutput = true, WorkingDirectory = _folder };
        foreach (var argument in new[] { "ocsp", "-index", "index.txt", "-port", _port.ToString(CultureInfo.InvariantCulture), "-rsigner", "ca.crt", "-rkey", "ca.key", "-CA", "ca.crt", "-ignore_err" })
            start.ArgumentList.Add(argument);
        _responder = System.Diagnostics.Process.Start(start)!;
        _responder.ErrorDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _responder.OutputDataReceived += (_, e) => { lock (_log) _log.AppendLine(e.Data); };
        _responder.BeginErrorReadLine();
        _responder.BeginOutputReadLine();
        // Not a TCP probe: the responder serves one connection at a time and would wait on the probe's.
        for (var i = 0; i < 100; i++)
        {
            lock (_log)
                if (_log.ToString().Contains("waiting for OCSP client connections", StringComparison.Ordinal)) return;
            await Task.Delay(100);
        }
        throw new InvalidOperationException("openssl ocsp did not start listening: " + _log);
    }

    public Task DisposeAsync()
    {
        if (_responder is { HasExited: false }) _responder.Kill(entireProcessTree: true);
        _responder?.Dispose();
        _pki.Dispose();
        Directory.Delete(_folder, recursive: true);
        return Task.CompletedTask;
    }

    // openssl's index.txt: status, expiry, revocation time, serial, file, subject.
    private static string Entry(X509Certificate2 certificate, DateTimeOffset? revokedAt) => string.Join('\t',
        revokedAt is null ? "V" : "R",
        certificate.NotAfter.ToUniversalTime().ToString("yyMMddHHmmss'Z'", CultureInfo.InvariantCulture),
        revokedAt?.UtcDateTime.ToString("yyMMddHHmmss'Z'", CultureInfo.InvariantCulture) ?? "",
        certificate.SerialNumber,
        "unknown",
        "/" + string.Join('/', certificate.SubjectName.Name.Split(", ").Reverse()));

    private async Task<CertificateChoice> LookupAsync(TestIdentity identity)
    {
        var trust = new TrustContext(new X509Certificate2Collection(_pki.Root.Certificate), [], TimeProvider.System);
        var options = Options.Create(new GatewayOptions { Certificates = new CertificatesOptions { Revocation = new RevocationOptions { Mode = RevocationMode.HardFail, Timeout = TimeSpan.FromSeconds(5) } } });
        var resolver = new CertificateResolver([new FixedCertificateSource(identity.PublicCertificate)], trust, new ChainRevocationChecker(options, trust));
        return await resolver.FindRecipientAsync(identity.Address, default);
    }

    [Fact]
    public async Task CertificateTheResponderCallsGood_IsUsed_EvenUnderHardFail()
    {
        var choice = await LookupAsync(_good);
        Assert.True(choice.Found, choice.Reason + " / " + choice.TemporaryFailure + "\nresponder: " + _log);
        Assert.Contains("not revoked", choice.Reason);
    }

    [Fact]
    public async Task CertificateTheResponderCallsRevoked_IsNeverUsed()
    {
        var choice = await LookupAsync(_revoked);
        Assert.False(choice.Found, choice.Reason);
        Assert.Contains(choice.Rejected, r => r.Contains("revoked", StringComparison.Ordinal));
    }
}
