using Gateway.Cli;
using Gateway.Testing.Pki;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Cli;

/// <summary>`gateway certs list` shows every certificate held, what it is for, and whether it is usable now or soon no longer.</summary>
public sealed class CertsListTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private async Task<(int Exit, string Output)> ListAsync(int? expiring = null, bool json = false)
    {
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await CertsListCommand.ExecuteAsync(config, expiring, json, output, error);
        return (exit, output + error.ToString());
    }

    [Fact]
    public async Task EveryCertificate_IsListed_WithItsUseSourceAndStatus()
    {
        var old = _world.Pki.Issue("old@partner.test", new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddYears(-2), NotAfter = DateTimeOffset.UtcNow.AddDays(-3) });
        File.WriteAllText(Path.Combine(_world.Certificates, "old@partner.test.crt"), old.CertificatePem);

        var (exit, output) = await ListAsync();
        Assert.Equal(0, exit);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Contains(lines, l => l.StartsWith("alice@example.test  signing  local:alice@example.test.p12") && l.Contains(_world.Alice.Certificate.Thumbprint) && l.EndsWith("  usable"));
        Assert.Contains(lines, l => l.StartsWith("bob@partner.test  encryption  local:bob@partner.test.crt") && l.EndsWith("  usable"));
        Assert.Contains(lines, l => l.StartsWith("old@partner.test  encryption") && l.Contains("expired on"));
        Assert.Equal("4 certificates", lines[^1].Trim());
    }

    [Fact]
    public async Task Expiring_ShowsOnlyWhatIsUnusableOrEndsSoon()
    {
        var soon = _world.Pki.Issue("soon@partner.test", new CertificateOptions { NotAfter = DateTimeOffset.UtcNow.AddDays(10) });
        File.WriteAllText(Path.Combine(_world.Certificates, "soon@partner.test.crt"), soon.CertificatePem);

        var (_, output) = await ListAsync(expiring: 30);
        var lines = output.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var only = Assert.Single(lines, l => l.Contains('@'));
        Assert.StartsWith("soon@partner.test  encryption", only);
        Assert.Contains("usable, ends in 10 days", only);
        Assert.Equal("1 certificate unusable or ending within 30 days", lines[^1].Trim());
    }

    [Fact]
    public async Task Json_GivesTheSameEntries()
    {
        var (_, output) = await ListAsync(json: true);
        using var document = System.Text.Json.JsonDocument.Parse(output);
        Assert.Contains(document.RootElement.GetProperty("certificates").EnumerateArray(), e => e.GetProperty("address").GetString() == "bob@partner.test"
            && e.GetProperty("use").GetString() == "encryption" && e.GetProperty("usable").GetBoolean());
    }

    [Fact]
    public async Task UnreadableFile_IsNamed_AndTheExitCodeIs1()
    {
        File.WriteAllBytes(Path.Combine(_world.Certificates, "broken.crt"), [0x30, 0x03, 0x02, 0x01, 0x00]);
        var (exit, output) = await ListAsync();
        Assert.Equal(1, exit);
        Assert.Contains("unreadable: " + Path.Combine(_world.Certificates, "broken.crt"), output);
        Assert.Contains("bob@partner.test  encryption", output); // the rest is listed all the same
    }
}
