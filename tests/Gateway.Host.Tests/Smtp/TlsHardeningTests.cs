using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Testing;
using Gateway.Tests.Fixtures;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Gateway.Tests.Smtp;

/// <summary>The listener's TLS: no weak TLS 1.2 suites (checked with openssl s_client), and a new certificate file is used without a restart.</summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class TlsHardeningTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private string WriteServerCertificate(string commonName)
    {
        var path = Path.Combine(_world.Root, "server.p12");
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={commonName}, O=Gateway TEST ONLY", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        var temporary = path + ".new";
        File.WriteAllBytes(temporary, certificate.Export(X509ContentType.Pkcs12, "tls"));
        File.SetUnixFileMode(temporary, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.Move(temporary, path, overwrite: true);
        return path;
    }

    private async Task<RunningGateway> StartWithTlsAsync(string commonName)
    {
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = WriteServerCertificate(commonName);
        _world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = "tls";
        return await RunningGateway.StartAsync(_world);
    }

    private static Task<ToolResult> HandshakeAsync(int port, params string[] options) =>
        ToolProcess.RunAsync("openssl", ["s_client", "-connect", $"127.0.0.1:{port}", "-starttls", "smtp", .. options], stdin: [], timeout: TimeSpan.FromSeconds(30));

    [Fact]
    public async Task WeakTls12Suites_AreRefused_StrongOnesAccepted()
    {
        await using var gateway = await StartWithTlsAsync("tls-ciphers");
        // ECDHE-RSA-AES128-SHA256 (CBC) is what the OS default would still accept; the policy allows only AEAD suites.
        var weak = await HandshakeAsync(gateway.Port, "-tls1_2", "-cipher", "ECDHE-RSA-AES128-SHA256");
        Assert.False(weak.Succeeded, "a TLS 1.2 handshake with a CBC suite (ECDHE-RSA-AES128-SHA256) succeeded:\n" + weak.Stdout);
        var strong = await HandshakeAsync(gateway.Port, "-tls1_2", "-cipher", "ECDHE-RSA-AES256-GCM-SHA384");
        Assert.True(strong.Succeeded, strong.Stdout + strong.Stderr);
        var tls13 = await HandshakeAsync(gateway.Port, "-tls1_3");
        Assert.True(tls13.Succeeded, tls13.Stdout + tls13.Stderr);
        var tls11 = await HandshakeAsync(gateway.Port, "-tls1_1");
        Assert.False(tls11.Succeeded, "a TLS 1.1 handshake succeeded");
    }

    [Fact]
    public async Task ReplacedCertificateFile_IsUsedForTheNextSession_WithoutARestart()
    {
        await using var gateway = await StartWithTlsAsync("first.example.test");
        Assert.Contains("CN=first.example.test", await PresentedSubjectAsync(gateway.Port));

        await Task.Delay(1100); // a new modification time, whatever the file system's resolution
        WriteServerCertificate("second.example.test");
        Assert.Contains("CN=second.example.test", await PresentedSubjectAsync(gateway.Port));
    }

    private static async Task<string> PresentedSubjectAsync(int port)
    {
        var subject = "";
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, certificate, _, _) => { subject = certificate!.Subject; return true; } };
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.StartTls);
        await client.DisconnectAsync(true);
        return subject;
    }
}
