using Gateway.Pipeline;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// missingCertificate: hold, then the certificate arrives: the held copy goes out by itself,
/// encrypted to it, without an admin; until then it stays held.
/// </summary>
public sealed class HeldForCertificateTests : IDisposable
{
    private const string Erin = "erin@partner.test";
    private readonly GatewayWorld _world = new("""
        {
          "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
          "rules": [ { "name": "partners", "recipients": ["partner.test"], "encrypt": "required", "missingCertificate": "hold" } ]
        }
        """);

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task AHeldCopy_GoesOutByItself_EncryptedToTheCertificateItWaitedFor()
    {
        _world.Settings["Gateway:Spool:HeldRecheckInterval"] = "00:00:00"; // the test says when to look
        await using var gateway = await RunningGateway.StartAsync(_world);
        var service = gateway.Services.GetRequiredService<HeldForCertificateService>();
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Erin, "waiting", "For Erin, once her certificate is known."), "alice@example.test", Erin);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "held", Erin));
        Assert.Contains("\"waitsFor\": \"certificate\"", File.ReadAllText(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold"), "*.json").Single()));

        Assert.Empty(await service.RecheckAsync(CancellationToken.None));

        using var erin = _world.Pki.Issue(Erin);
        var files = erin.WriteTo(Path.Combine(_world.Root, "erin-keys"), "x");
        File.Copy(files.CertificatePath, Path.Combine(_world.Certificates, "erin.crt"));
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-reloaded"));
        var released = await service.RecheckAsync(CancellationToken.None);

        Assert.Single(released);
        var audit = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "hold-released"));
        Assert.Contains("known now", audit.GetProperty("reason").GetString());
        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Erin));
        Assert.Equal("signed+encrypted", delivered.GetProperty("action").GetString());
        var opened = await OpenSslCms.DecryptAsync(_world.OutboxFileOf(delivered), files.CertificatePath, files.KeyPath);
        Assert.True(opened.Success, opened.Stderr);
        Assert.Contains("once her certificate is known", opened.ContentText);
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold"), "*.json"));
    }
}
