using Gateway.Certificates;
using Gateway.Cli;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Cli;

/// <summary>
/// <c>gateway certs import</c>: a partner's signed mail (made by openssl, an independent signer)
/// makes later mail to them encrypted; a bad signature, an old Thunderbird signature and an
/// expired certificate are refused with every reason.
/// </summary>
public sealed class CertsImportCommandTests : IDisposable
{
    private const string Dan = "dan@partner.test";
    private readonly GatewayWorld _world = new();
    private readonly string _config;

    public CertsImportCommandTests()
    {
        _config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
    }

    public void Dispose()
    {
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
        _world.Dispose();
    }

    private async Task<(int Exit, string Output, string Error)> ImportAsync(params string[] files)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var exit = await CertsImportCommand.ExecuteAsync(_config, files, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    private async Task<string> SignedByOpenSslAsync(TestIdentity signer, string body = "Hello from Dan.\r\n")
    {
        var files = signer.WriteTo(Path.Combine(_world.Root, "partner-keys"));
        var entity = Path.Combine(_world.Root, "entity.mime");
        await File.WriteAllTextAsync(entity, "Content-Type: text/plain; charset=utf-8\r\n\r\n" + body);
        var eml = Path.Combine(_world.Root, $"signed-{Guid.NewGuid():N}.eml");
        var signed = await OpenSslCms.SignAsync(entity, eml, files.CertificatePath, files.KeyPath,
            headers: new MessageHeaders(signer.Address, "alice@example.test", "signed by openssl"));
        Assert.True(signed.Success, signed.Stderr);
        return eml;
    }

    /// <summary>
    /// One of Gateway's own signed copies, or the certificate file of one of its own identities:
    /// mail to that sender is never encrypted to a key Gateway holds, so storing it would only
    /// make the listing say otherwise. The import says why it stores nothing.
    /// </summary>
    [Fact]
    public async Task OwnSignedCopy_AndOwnCertificateFile_AreNotStored_NamingTheKeyGatewayHolds()
    {
        var ownCopy = await SignedByOpenSslAsync(_world.Alice, "A copy signed with Gateway's own key.\r\n");

        var (exit, output, error) = await ImportAsync(ownCopy, _world.AliceFiles.CertificatePath);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains($"{ownCopy}: not stored certificate {_world.Alice.Certificate.Thumbprint} for alice@example.test: its key is one Gateway holds for alice@example.test", error);
        Assert.Contains($"{_world.AliceFiles.CertificatePath}: not stored certificate {_world.Alice.Certificate.Thumbprint} for alice@example.test: its key is one Gateway holds", error);
    }

    [Fact]
    public async Task ThunderbirdSignedMessageFrom2013_IsRefused_NamingExpiryUntrustedRootAndSha1()
    {
        var (exit, output, error) = await ImportAsync(Path.Combine(AppContext.BaseDirectory, "TestData", "thunderbird-signed.eml"));

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains("refused", error);
        Assert.Contains("fejj@gnome.org", error);
        Assert.Contains("expired on", error);
        Assert.Contains("does not chain to a configured trust anchor", error);
        Assert.Contains("SHA-1", error);
        Assert.DoesNotContain("bad signature", error); // the structure and the signature itself are sound
    }

    [Fact]
    public async Task PartnersSignedMessage_IsImported_AndMailToThemIsThenEncryptedWithThatCertificate()
    {
        var dan = _world.Pki.Issue(Dan);
        var danFiles = dan.WriteTo(Path.Combine(_world.Root, "dan-keys"), GatewayWorld.Pkcs12Password);

        var (exit, output, error) = await ImportAsync(await SignedByOpenSslAsync(dan));

        Assert.True(exit == 0, error);
        Assert.Contains($"stored certificate {dan.Certificate.Thumbprint} for {Dan}", output);
        Assert.Contains("SMIMECapabilities stored", output); // openssl cms -sign adds them

        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Dan, "to dan", "Secret for Dan.\r\n"), "alice@example.test", Dan);
        var decision = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", Dan));
        Assert.Equal("sign+encrypt", decision.GetProperty("action").GetString());
        Assert.Equal("harvested", decision.GetProperty("certificateSource").GetString());
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Dan));
        var eml = Assert.Single(Directory.EnumerateFiles(_world.OutboxPath, "*.eml"));
        var decrypted = await OpenSslCms.DecryptAsync(eml, danFiles.CertificatePath, danFiles.KeyPath);
        Assert.True(decrypted.Success, decrypted.Stderr);
    }

    /// <summary>
    /// Alice's signing identity is Gateway's: she reads mail without its key. Her certificate found
    /// again (in the cache here, as an import stored it before imports refused it; harvested from
    /// her own signed mail coming back, or in a directory) must not make mail to her, a bounce
    /// included, unreadable in her mailbox.
    /// </summary>
    [Fact]
    public async Task ACertificateOfOneOfGatewaysOwnIdentities_IsNeverEncryptedTo_WhateverSourceGivesIt()
    {
        using (var tool = await ValidatedHost.TryCreateAsync(_config, TextWriter.Null, tool: true))
            tool!.Services.GetRequiredService<CertificateCache>().RememberFound("alice@example.test", HarvestedCertificateSource.ImportedName, [_world.Alice.PublicCertificate], chain: []);

        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.SendAsync(RunningGateway.NewMessage("carol@partner.test", "alice@example.test", "to alice", "For Alice's eyes.\r\n"), "carol@partner.test", "alice@example.test");
        var decision = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", "alice@example.test"));

        Assert.Equal("plain", decision.GetProperty("action").GetString());
        Assert.Contains(decision.GetProperty("rejectedCertificates").EnumerateArray(), r =>
            r.GetString()!.StartsWith($"{_world.Alice.Certificate.Thumbprint} from ", StringComparison.Ordinal) && r.GetString()!.Contains("one of Gateway's own identities for alice@example.test"));
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "alice@example.test"));
        Assert.DoesNotContain("pkcs7-mime", await File.ReadAllTextAsync(Assert.Single(Directory.EnumerateFiles(_world.OutboxPath, "*.eml"))));
    }

    /// <summary>Dan re-keyed; his old signed message, imported after the new one, must not put the old key back, and says so.</summary>
    [Fact]
    public async Task AnOldSignedMessageImportedAfterANewerOne_StoresNothing_AndSaysWhy()
    {
        var old = _world.Pki.Issue(Dan, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-30) });
        var current = _world.Pki.Issue(Dan, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-2) });
        var oldMessage = await SignedByOpenSslAsync(old);
        Assert.Equal(0, (await ImportAsync(await SignedByOpenSslAsync(current))).Exit);

        var (exit, output, error) = await ImportAsync(oldMessage);

        Assert.Equal(1, exit);
        Assert.Empty(output);
        Assert.Contains($"not stored certificate {old.Certificate.Thumbprint} for {Dan}: a newer certificate of the sender is kept", error);
    }

    [Fact]
    public async Task ASignedMessageWhoseBodyWasChanged_IsRefusedForItsBadSignature_AndNothingIsStored()
    {
        var eml = await SignedByOpenSslAsync(_world.Pki.Issue(Dan), "Pay 100 EUR.\r\n");
        await File.WriteAllTextAsync(eml, (await File.ReadAllTextAsync(eml)).Replace("Pay 100 EUR.", "Pay 900 EUR."));

        var (exit, output, error) = await ImportAsync(eml);

        Assert.Equal(1, exit);
        Assert.Contains("bad signature", error);
        Assert.Empty(output);
    }

    [Fact]
    public async Task CertificateFiles_AreImportedPerAddress_AndAnExpiredOneIsRefusedWithItsReason()
    {
        var dan = _world.Pki.Issue(Dan).WriteTo(Path.Combine(_world.Root, "d"));
        var expired = _world.Pki.Issue("old@partner.test", new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-30), NotAfter = DateTimeOffset.UtcNow.AddDays(-1) })
            .WriteTo(Path.Combine(_world.Root, "o"));

        var (exit, output, error) = await ImportAsync(dan.CertificatePath, expired.CertificatePath, Path.Combine(_world.Root, "missing.crt"));

        Assert.Equal(1, exit);
        Assert.Contains($"stored certificate", output);
        Assert.Contains(Dan, output);
        Assert.Contains("old@partner.test: expired on", error);
        Assert.Contains("missing.crt: no such file", error);
    }
}
