using Gateway.Cli;
using Gateway.Testing.Pki;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Cli;

/// <summary>`gateway certs lookup` explains, per address, what the gateway would use now and why not the rest.</summary>
public sealed class CertsLookupTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private async Task<(int Exit, string Output)> LookupAsync(string address, bool json = false)
    {
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await CertsLookupCommand.ExecuteAsync(config, address, json, output, error, default);
        return (exit, output + error.ToString());
    }

    [Fact]
    public async Task Json_NamesTheCertificateRepliesAreEncryptedTo()
    {
        var (_, output) = await LookupAsync("alice@example.test", json: true);

        using var document = System.Text.Json.JsonDocument.Parse(output);
        Assert.Equal(_world.Alice.Certificate.Thumbprint, document.RootElement.GetProperty("signing").GetProperty("thumbprint").GetString());
        Assert.Equal(_world.Alice.Certificate.Thumbprint, document.RootElement.GetProperty("repliesEncryptedTo").GetString());
    }

    [Fact]
    public async Task KnownRecipient_IsUsable_WithItsSourceAndWhy()
    {
        var (exit, output) = await LookupAsync("bob@partner.test");
        Assert.Equal(0, exit);
        Assert.Contains($"encryption to bob@partner.test: usable", output);
        Assert.Contains($"certificate {_world.Bob.Certificate.Thumbprint} from local:bob@partner.test.crt", output);
    }

    [Fact]
    public async Task ExpiredCertificate_IsListedAsRejected_WithTheReason()
    {
        var old = _world.Pki.Issue("old@partner.test", new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddYears(-2), NotAfter = DateTimeOffset.UtcNow.AddDays(-3) });
        File.WriteAllText(Path.Combine(_world.Certificates, "old@partner.test.crt"), old.CertificatePem);
        var (exit, output) = await LookupAsync("old@partner.test");
        Assert.Equal(1, exit);
        Assert.Contains("encryption to old@partner.test: none", output);
        Assert.Contains($"rejected: {old.Certificate.Thumbprint} from local:old@partner.test.crt: expired on", output);
    }

    [Fact]
    public async Task UnknownAddress_SaysNoneIsKnown()
    {
        var (exit, output) = await LookupAsync("erin@partner.test");
        Assert.Equal(1, exit);
        Assert.Contains("no encryption certificate known for erin@partner.test", output);
    }

    [Fact]
    public async Task UnreadableCertificateFolderFile_IsNamedAsAWarning()
    {
        var frank = PolicyCheckTests.WriteWrongPasswordIdentity(_world);
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await CertsLookupCommand.ExecuteAsync(config, "bob@partner.test", json: false, output, error, default);
        Assert.Equal(0, exit);
        Assert.Contains($"warning: certificate file not read (gateway run refuses to start with it; answered without it): {frank}: ", error.ToString());
    }
}
