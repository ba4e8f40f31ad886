using System.Text.Json;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Certificates;

/// <summary>
/// The certificate folder while the gateway runs: a certificate dropped in is used for the next
/// message, one taken out is no longer used, and a file that cannot be read changes nothing but
/// is reported, once.
/// </summary>
public sealed class CertificateFolderReloadTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public CertificateFolderReloadTests()
    {
        // No file-system events needed: the periodic check alone must find the change.
        _world.Settings["Gateway:Certificates:ReloadCheckInterval"] = "00:00:00.300";
    }

    public void Dispose() => _world.Dispose();

    private static int Count(RunningGateway gateway, string name) => gateway.AuditEvents().Count(e => RunningGateway.Is(e, name));

    private static async Task<JsonElement> OutcomeForAsync(RunningGateway gateway, string subject, string recipient)
    {
        var reply = await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", recipient, subject), "alice@example.test", recipient);
        var id = reply.Split(' ')[^1];
        return await gateway.WaitForAuditAsync(e => e.TryGetProperty("spoolId", out var spoolId) && spoolId.GetString() == id
                                                    && (RunningGateway.Is(e, "delivered", recipient) || RunningGateway.Is(e, "refused", recipient)));
    }

    [Fact]
    public async Task CertificateDroppedIntoTheFolder_IsUsedForTheNextMessage_AndOneTakenOutNoLonger()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        // partner.test requires encryption; dave has no certificate yet.
        Assert.Equal("refused", (await OutcomeForAsync(gateway, "before", "dave@partner.test")).GetProperty("event").GetString());

        using var dave = _world.Pki.Issue("dave@partner.test");
        var file = Path.Combine(_world.Certificates, "dave@partner.test.crt");
        await File.WriteAllTextAsync(file, dave.CertificatePem);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-reloaded"));

        var delivered = await OutcomeForAsync(gateway, "after", "dave@partner.test");
        Assert.Equal("delivered", delivered.GetProperty("event").GetString());
        Assert.Equal("signed+encrypted", delivered.GetProperty("action").GetString());
        Assert.Equal(dave.Certificate.Thumbprint, delivered.GetProperty("recipientCertificates")[0].GetString());

        File.Delete(file);
        await gateway.WaitForAuditAsync(_ => Count(gateway, "certificates-reloaded") >= 2);
        Assert.Equal("refused", (await OutcomeForAsync(gateway, "removed", "dave@partner.test")).GetProperty("event").GetString());
    }

    [Fact]
    public async Task ATrustAnchorAddedOutsideTheFolder_IsTakenWithoutARestart_AndUnlocksItsCertificates()
    {
        // The anchors in a file of their own, as a site keeps its CA bundle; a partner's CA not among them yet.
        var anchors = Path.Combine(_world.Root, "anchors.pem");
        File.Copy(_world.CaCertificatePath, anchors);
        _world.Settings["Gateway:Certificates:TrustAnchors:0"] = anchors;
        using var partnerPki = Gateway.Testing.Pki.TestPki.Create("Partner TEST ONLY Root CA");
        using var dave = partnerPki.Issue("dave@partner.test");
        await File.WriteAllTextAsync(Path.Combine(_world.Certificates, "dave@partner.test.crt"), dave.CertificatePem);
        await using var gateway = await RunningGateway.StartAsync(_world);
        Assert.Equal("refused", (await OutcomeForAsync(gateway, "untrusted", "dave@partner.test")).GetProperty("event").GetString());

        await File.AppendAllTextAsync(anchors, "\n" + partnerPki.Root.CertificatePem);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-reloaded"));

        var delivered = await OutcomeForAsync(gateway, "trusted", "dave@partner.test");
        Assert.Equal("delivered", delivered.GetProperty("event").GetString());
        Assert.Equal(dave.Certificate.Thumbprint, delivered.GetProperty("recipientCertificates")[0].GetString());
    }

    [Theory]
    [InlineData("broken.p12", "garbage")]
    [InlineData("zed@partner.test.crt", "half a PEM")]
    public async Task FolderWithAFileThatCannotBeRead_IsNotTaken_NorAnythingNewInIt_AndIsReportedOnce(string name, string kind)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        using var dave = _world.Pki.Issue("dave@partner.test");
        var broken = Path.Combine(_world.Certificates, name);
        if (kind == "garbage") await File.WriteAllBytesAsync(broken, [0x30, 0x03, 0x02, 0x01, 0x00]);
        else
        {
            using var zed = _world.Pki.Issue("zed@partner.test");
            await File.WriteAllTextAsync(broken, zed.CertificatePem[..(zed.CertificatePem.Length / 2)]); // a copy still in progress
        }
        await File.WriteAllTextAsync(Path.Combine(_world.Certificates, "dave@partner.test.crt"), dave.CertificatePem);

        var rejected = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-rejected"));
        Assert.Contains(name, rejected.GetProperty("reason").GetString());
        // The folder as it was stays in use: Alice still signs and Bob's certificate encrypts, and
        // Dave's, new in the refused folder, is not used yet.
        Assert.Equal("signed+encrypted", (await OutcomeForAsync(gateway, "still", "bob@partner.test")).GetProperty("action").GetString());
        Assert.Equal("refused", (await OutcomeForAsync(gateway, "not yet", "dave@partner.test")).GetProperty("event").GetString());
        await Task.Delay(1000); // several periodic checks, each reading the refused folder again
        Assert.Equal(1, Count(gateway, "certificates-rejected"));

        File.Delete(broken);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-reloaded"));
        Assert.Equal("signed+encrypted", (await OutcomeForAsync(gateway, "now", "dave@partner.test")).GetProperty("action").GetString());
    }

    [Fact]
    public async Task SendersIdentityDroppedIntoTheFolder_SignsTheirNextMessage()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        using var erin = _world.Pki.Issue("erin@example.test");
        async Task<JsonElement> FromErinAsync(string subject)
        {
            var id = (await gateway.SendAsync(RunningGateway.NewMessage("erin@example.test", "bob@partner.test", subject), "erin@example.test", "bob@partner.test")).Split(' ')[^1];
            return await gateway.WaitForAuditAsync(e => e.TryGetProperty("spoolId", out var spoolId) && spoolId.GetString() == id
                                                        && (RunningGateway.Is(e, "delivered", "bob@partner.test") || RunningGateway.Is(e, "refused", "bob@partner.test")));
        }
        // Senders at example.test must sign; Erin has no identity yet.
        Assert.Equal("refused", (await FromErinAsync("before")).GetProperty("event").GetString());

        erin.WriteTo(_world.Certificates, GatewayWorld.Pkcs12Password); // p12 mode 0600, .crt and .key beside it
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-reloaded"));
        var delivered = await FromErinAsync("after");
        Assert.Equal("signed+encrypted", delivered.GetProperty("action").GetString());
        Assert.Equal(erin.Certificate.Thumbprint, delivered.GetProperty("signerCertificate").GetString());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task IdentityOthersCanRead_IsNotTakenInWhileRunning_AsAtStart()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        using var erin = _world.Pki.Issue("erin@example.test");
        var files = erin.WriteTo(Path.Combine(_world.Root, "staging"), GatewayWorld.Pkcs12Password);
        var exposed = Path.Combine(_world.Certificates, "erin@example.test.p12");
        File.Copy(files.Pkcs12Path, exposed);
        File.SetUnixFileMode(exposed, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var rejected = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-rejected"));
        Assert.Contains("accessible to other users (mode 0644)", rejected.GetProperty("reason").GetString());
        File.SetUnixFileMode(exposed, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-reloaded"));
    }
}
