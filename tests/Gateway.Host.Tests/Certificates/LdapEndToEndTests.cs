using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Certificates;

/// <summary>
/// The gateway with a real slapd as its only source for dan@partner.test, whose policy requires
/// encryption: found → encrypted (openssl decrypts); directory down → deferred, never refused and
/// never plaintext; directory back → delivered encrypted.
/// </summary>
public sealed class LdapEndToEndTests : IAsyncLifetime
{
    private const string Dan = "dan@partner.test";
    private readonly GatewayWorld _world = new();
    private SlapdInstance _slapd = null!;
    private TestIdentity _dan = null!;
    private TestIdentityFiles _danFiles = null!;

    public async Task InitializeAsync()
    {
        _slapd = await SlapdInstance.StartAsync();
        _dan = _world.Pki.Issue(Dan);
        _danFiles = _dan.WriteTo(Path.Combine(_world.Root, "recipient-keys"), GatewayWorld.Pkcs12Password);
        await _slapd.AddPersonAsync("dan", Dan, [_dan.PublicCertificate]);
        _world.Settings["Gateway:Certificates:Ldap:0:Name"] = "corp";
        _world.Settings["Gateway:Certificates:Ldap:0:Url"] = _slapd.Url;
        _world.Settings["Gateway:Certificates:Ldap:0:BaseDn"] = SlapdInstance.People;
        _world.Settings["Gateway:Certificates:Ldap:0:Filter"] = "(&(objectClass=inetOrgPerson)(mail={0}))";
        _world.Settings["Gateway:Certificates:Ldap:0:Timeout"] = "00:00:03";
    }

    public async Task DisposeAsync()
    {
        await _slapd.DisposeAsync();
        _world.Dispose();
    }

    [Fact]
    public async Task RecipientWhoseCertificateIsOnlyInLdap_GetsEncryptedMail_ThatOpenSslDecrypts()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Dan, "for dan", "Dan's secret.\r\n"), "alice@example.test", Dan);

        var decision = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", Dan));
        Assert.Equal("sign+encrypt", decision.GetProperty("action").GetString());
        Assert.Equal("ldap:corp", decision.GetProperty("certificateSource").GetString());
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Dan));
        await AssertDeliveredEncryptedAsync();
    }

    [Fact]
    public async Task DirectoryDown_DefersTheRecipient_NeverRefusesNorSendsPlaintext_ThenDeliversEncryptedWhenItIsBack()
    {
        await _slapd.StopAsync();
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Dan, "for dan", "Dan's secret.\r\n"), "alice@example.test", Dan);

        var deferred = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", Dan));
        Assert.Equal("451 4.4.3 certificate directory unavailable", deferred.GetProperty("reply").GetString());
        Assert.Contains("ldap:corp", deferred.GetProperty("reason").GetString());
        // A second attempt (retries every 1-2 s here) still defers while the directory is down.
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", Dan) && e.GetProperty("time").GetDateTimeOffset() > deferred.GetProperty("time").GetDateTimeOffset());
        Assert.False(Directory.Exists(_world.OutboxPath) && Directory.EnumerateFiles(_world.OutboxPath).Any(), "nothing may leave while the directory is down");
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "refused") || RunningGateway.Is(e, "failed"));

        await _slapd.StartAgainAsync();

        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Dan), TimeSpan.FromSeconds(30));
        await AssertDeliveredEncryptedAsync();
    }

    [Fact]
    public async Task ACertificateFoundInLdap_IsStillUsedFromThePersistentCache_AfterARestartWhileTheDirectoryIsDown()
    {
        await using (var first = await RunningGateway.StartAsync(_world))
        {
            await first.SendAsync(RunningGateway.NewMessage("alice@example.test", Dan, "first", "First.\r\n"), "alice@example.test", Dan);
            await first.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Dan));
        }
        foreach (var file in Directory.EnumerateFiles(_world.OutboxPath)) File.Delete(file);
        await _slapd.StopAsync();

        await using var restarted = await RunningGateway.StartAsync(_world);
        await restarted.SendAsync(RunningGateway.NewMessage("alice@example.test", Dan, "second", "Dan's secret.\r\n"), "alice@example.test", Dan);

        var decision = await restarted.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", Dan) && e.GetProperty("action").GetString() == "sign+encrypt"
            && e.GetProperty("certificateSource").GetString() == "cache (ldap:corp)");
        await restarted.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Dan) && e.GetProperty("spoolId").GetString() == decision.GetProperty("spoolId").GetString());
        await AssertDeliveredEncryptedAsync();
    }

    private async Task AssertDeliveredEncryptedAsync()
    {
        var eml = Assert.Single(Directory.EnumerateFiles(_world.OutboxPath, "*.eml"));
        Assert.DoesNotContain("Dan's secret", await File.ReadAllTextAsync(eml));
        var decrypted = await OpenSslCms.DecryptAsync(eml, _danFiles.CertificatePath, _danFiles.KeyPath);
        Assert.True(decrypted.Success, decrypted.Stderr);
        var inner = Path.Combine(_world.Root, "decrypted.eml");
        await File.WriteAllBytesAsync(inner, decrypted.Content);
        var verified = await OpenSslCms.VerifyAsync(inner, _world.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);
        Assert.Contains("Dan's secret.", verified.ContentText);
    }
}
