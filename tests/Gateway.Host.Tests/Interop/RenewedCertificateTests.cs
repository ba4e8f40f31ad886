using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Interop;

/// <summary>
/// A recipient with two current certificates (a renewal with a new key, the old one still valid):
/// the copy is encrypted to both, so each of the recipient's keys opens it, checked with OpenSSL
/// and gpgsm; with Certificates:MaxEncryptionCertificates = 1 only the newest key does.
/// </summary>
public sealed class RenewedCertificateTests : IDisposable
{
    private readonly GatewayWorld _world = new();
    private readonly TestIdentity _renewed;
    private readonly TestIdentityFiles _renewedFiles;

    public RenewedCertificateTests()
    {
        _renewed = _world.Pki.Issue("bob@partner.test", new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddMinutes(-5) });
        _renewedFiles = _renewed.WriteTo(Path.Combine(_world.Root, "renewed-keys"), GatewayWorld.Pkcs12Password);
        File.Copy(_renewedFiles.CertificatePath, Path.Combine(_world.Certificates, "bob-renewed.crt"));
    }

    public void Dispose()
    {
        _renewed.Dispose();
        _world.Dispose();
    }

    private async Task<(string Eml, System.Text.Json.JsonElement Delivered)> SendToBobAsync(RunningGateway gateway, string subject)
    {
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", subject, "For Bob, on any of his devices."), "alice@example.test", "bob@partner.test");
        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "bob@partner.test"));
        return (_world.OutboxFileOf(delivered), delivered);
    }

    [Fact]
    public async Task CopyIsEncryptedToEveryCurrentCertificate_AndEachKeyOpensIt_WithOpenSslAndGpgsm()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        var (eml, delivered) = await SendToBobAsync(gateway, "renewed");

        Assert.Equal([_renewed.Certificate.Thumbprint, _world.Bob.Certificate.Thumbprint],
            delivered.GetProperty("recipientCertificates").EnumerateArray().Select(t => t.GetString()));
        var decision = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", "bob@partner.test"));
        Assert.Contains("also encrypted to 1 other current certificate(s)", decision.GetProperty("reason").GetString());

        var withOldKey = await OpenSslCms.DecryptAsync(eml, _world.BobFiles.CertificatePath, _world.BobFiles.KeyPath);
        var withNewKey = await OpenSslCms.DecryptAsync(eml, _renewedFiles.CertificatePath, _renewedFiles.KeyPath);
        Assert.True(withOldKey.Success, withOldKey.Stderr);
        Assert.True(withNewKey.Success, withNewKey.Stderr);
        Assert.Contains("For Bob, on any of his devices.", withNewKey.ContentText);

        // gpgsm on the device Bob did not move to the new key: it holds the old key only.
        await using var gpgsm = await Gpgsm.CreateAsync(_world.CaCertificatePath);
        Assert.True((await gpgsm.ImportIdentityAsync(_world.Bob, GatewayWorld.Pkcs12Password)).Success);
        var byGpgsm = await gpgsm.DecryptAsync(eml, GatewayWorld.Pkcs12Password);
        Assert.True(byGpgsm.Decrypted, byGpgsm.Status + byGpgsm.Stderr);
        Assert.Contains("For Bob, on any of his devices.", byGpgsm.ContentText);
    }

    [Fact]
    public async Task PolicyExplain_NamesEveryCertificateACopyWouldBeEncryptedTo()
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await Gateway.Cli.PolicyExplainCommand.ExecuteAsync(
            new Gateway.Cli.PolicyExplainCommand.Request("alice@example.test", ["bob@partner.test"], null, [], false, null),
            output, error, CancellationToken.None, c => Microsoft.Extensions.Configuration.MemoryConfigurationBuilderExtensions.AddInMemoryCollection(c, _world.Settings));

        Assert.True(code == 0, error.ToString());
        Assert.Contains($"usable, {_renewed.Certificate.Thumbprint} from local:bob-renewed.crt", output.ToString());
        Assert.Contains($"; also encrypted to {_world.Bob.Certificate.Thumbprint}", output.ToString());
    }

    [Fact]
    public async Task WithOneCertificateAllowed_OnlyTheNewestKeyOpensIt()
    {
        _world.Settings["Gateway:Certificates:MaxEncryptionCertificates"] = "1";
        await using var gateway = await RunningGateway.StartAsync(_world);
        var (eml, delivered) = await SendToBobAsync(gateway, "newest only");

        Assert.Equal([_renewed.Certificate.Thumbprint], delivered.GetProperty("recipientCertificates").EnumerateArray().Select(t => t.GetString()));
        Assert.True((await OpenSslCms.DecryptAsync(eml, _renewedFiles.CertificatePath, _renewedFiles.KeyPath)).Success);
        Assert.False((await OpenSslCms.DecryptAsync(eml, _world.BobFiles.CertificatePath, _world.BobFiles.KeyPath)).Success);
    }
}
