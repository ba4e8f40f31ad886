using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Testing;
using Gateway.Tests.Fixtures;
using MailKit.Net.Smtp;
using MailKit.Security;

namespace Gateway.Tests.Configuration;

/// <summary>
/// Smtp:Tls:CertificatePath is read at start, by the settings validation, the way the listener
/// reads it: a file it cannot use stops the start with a message saying what is wrong.
/// </summary>
public sealed class ServerCertificateSettingsTests : IDisposable
{
    private readonly GatewayWorld _world = new();
    private readonly RSA _key = RSA.Create(2048);
    private readonly X509Certificate2 _certificate;

    public ServerCertificateSettingsTests()
    {
        var request = new CertificateRequest("CN=localhost, O=Gateway TEST ONLY", _key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        _certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
    }

    public void Dispose()
    {
        _certificate.Dispose();
        _key.Dispose();
        _world.Dispose();
    }

    private string WriteOwnerOnly(string name, string text)
    {
        var path = Path.Combine(_world.Root, name);
        File.WriteAllText(path, text);
        return OwnerOnly.Apply(path);
    }

    [Fact]
    public async Task PemCertificateWithoutKeyPath_IsRefusedAtStart_SayingItNeedsTheKey()
    {
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = WriteOwnerOnly("server.crt", _certificate.ExportCertificatePem());

        var (exit, error) = await RefusedStart.RunAsync(_world.Root, _world.Settings);

        Assert.Equal(1, exit);
        Assert.Contains("configuration error: Gateway:Smtp:Tls:CertificatePath: ", error);
        Assert.Contains("a PEM certificate needs Gateway:Smtp:Tls:KeyPath, or the key in the same file", error);
        Assert.DoesNotContain("ASN1", error);
    }

    [Fact]
    public async Task Pkcs12WithTheWrongPassword_IsRefusedAtStart_BeforeTheListener()
    {
        var path = Path.Combine(_world.Root, "server.p12");
        File.WriteAllBytes(path, _certificate.Export(X509ContentType.Pkcs12, "right"));
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = OwnerOnly.Apply(path);
        _world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = "wrong";

        var (exit, error) = await RefusedStart.RunAsync(_world.Root, _world.Settings);

        Assert.Equal(1, exit);
        Assert.StartsWith($"configuration error: Gateway:Smtp:Tls: cannot read the server certificate '{path}'", error);
        Assert.Contains("wrong Gateway:Smtp:Tls:CertificatePassword", error);
    }

    /// <summary>
    /// The tools (queue, policy, certs, ca, relay check) never read the server's key: run from a
    /// shell, they have neither its password (the service's environment file) nor always the key.
    /// </summary>
    [Fact]
    public async Task TheAdminTools_StartWithoutTheServerKeysPassword()
    {
        var path = Path.Combine(_world.Root, "server.p12");
        File.WriteAllBytes(path, _certificate.Export(X509ContentType.Pkcs12, "right"));
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = OwnerOnly.Apply(path);
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        var error = new StringWriter();

        using var tool = await Gateway.Cli.ValidatedHost.TryCreateAsync(config, error, tool: true);

        Assert.True(tool is not null, error.ToString());
    }

    [Fact]
    public async Task KeyAndCertificateInOnePemFile_AreTaken_AndStartTlsPresentsTheCertificate()
    {
        // Postfix's smtpd_tls_chain_files order: the key first, then the certificate.
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = WriteOwnerOnly("server.pem", _key.ExportPkcs8PrivateKeyPem() + "\n" + _certificate.ExportCertificatePem());
        await using var gateway = await RunningGateway.StartAsync(_world);

        string? presented = null;
        using var client = new SmtpClient
        {
            ServerCertificateValidationCallback = (_, certificate, _, _) =>
            {
                presented = certificate?.GetCertHashString();
                return true;
            },
        };
        await client.ConnectAsync("127.0.0.1", gateway.Port, SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        Assert.Equal(_certificate.Thumbprint, presented);
        await client.DisconnectAsync(true);
    }
}
