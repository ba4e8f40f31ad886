using Gateway.Pipeline;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// missingCertificate: hold. The sender is told it is held (RFC 3464 "delayed"); when the
/// certificate arrives the held copy goes out by itself, encrypted to it, without an admin; when
/// none arrives within Spool:MaximumLifetime it is returned to the sender.
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
        using (var listed = new StringWriter())
        {
            Gateway.Cli.QueueOutput.List(gateway.Services.GetRequiredService<Gateway.Spool.SpoolAdministration>(), json: false, listed, TextWriter.Null);
            Assert.Contains("held for certificate", listed.ToString());
        }
        var notice = await ReportAsync(gateway, "delay-warned");
        Assert.Equal("delayed", notice["Action"]);
        Assert.Equal("4.7.0", notice["Status"]);
        Assert.NotNull(notice["Will-Retry-Until"]);

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

    [Fact]
    public async Task TwoRecipientsHeldTogether_OneCertificateArrives_ThatOneGoesOut_TheOtherWaitsInANewCopy_WithoutASecondNotice()
    {
        const string Gina = "gina@partner.test";
        _world.Settings["Gateway:Spool:HeldRecheckInterval"] = "00:00:00";
        await using var gateway = await RunningGateway.StartAsync(_world);
        var service = gateway.Services.GetRequiredService<HeldForCertificateService>();
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Erin, "two waiting"), "alice@example.test", Erin, Gina);
        var firstHeld = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "held", Gina));
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delay-warned"));
        var first = Assert.Single(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold"), "*.json"));
        var receivedAt = System.Text.Json.JsonDocument.Parse(File.ReadAllText(first)).RootElement.GetProperty("receivedAt").GetDateTimeOffset();

        using var erin = _world.Pki.Issue(Erin);
        var files = erin.WriteTo(Path.Combine(_world.Root, "erin-keys"), "x");
        File.Copy(files.CertificatePath, Path.Combine(_world.Certificates, "erin.crt"));
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-reloaded"));

        Assert.Single(await service.RecheckAsync(CancellationToken.None));
        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Erin));
        Assert.Equal("signed+encrypted", delivered.GetProperty("action").GetString());
        var heldAgain = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "held", Gina) && e.GetProperty("spoolId").GetString() != firstHeld.GetProperty("spoolId").GetString());
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("spoolId").GetString() == heldAgain.GetProperty("spoolId").GetString());

        var second = Assert.Single(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold"), "*.json"));
        Assert.NotEqual(first, second);
        var copy = System.Text.Json.JsonDocument.Parse(File.ReadAllText(second)).RootElement;
        Assert.Equal(receivedAt, copy.GetProperty("receivedAt").GetDateTimeOffset()); // returned at the same time as before
        Assert.Equal([Gina], copy.GetProperty("recipients").EnumerateArray().Select(r => r.GetProperty("address").GetString()));
        Assert.Single(gateway.AuditEvents(), e => RunningGateway.Is(e, "delay-warned")); // the sender was told of the hold once
    }

    [Fact]
    public async Task AHeldCopy_StillWaitingAtTheEndOfItsLifetime_IsReturnedToTheSender_AlsoWithReleasingOff()
    {
        _world.Settings["Gateway:Spool:HeldRecheckInterval"] = "00:00:00";
        _world.Settings["Gateway:Spool:MaximumLifetime"] = "00:00:03";
        await using var gateway = await RunningGateway.StartAsync(_world);
        var service = gateway.Services.GetRequiredService<HeldForCertificateService>();
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Erin, "never known"), "alice@example.test", Erin);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "held", Erin));
        await Task.Delay(TimeSpan.FromSeconds(3.5));

        Assert.Empty(await service.RecheckAsync(CancellationToken.None, release: false)); // as the service runs with Spool:HeldRecheckInterval zero

        var failed = await ReportAsync(gateway, "bounced");
        Assert.Equal("failed", failed["Action"]);
        Assert.Equal("5.7.10", failed["Status"]);
        Assert.Contains("no certificate became known", failed["Diagnostic-Code"]);
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold"), "*.json"));
    }

    [Fact]
    public async Task ACopyAnAdminHeld_IsNeverReleasedByItself()
    {
        _world.Settings["Gateway:Spool:HeldRecheckInterval"] = "00:00:00";
        await using var gateway = await RunningGateway.StartAsync(_world);
        var spool = gateway.Services.GetRequiredService<Gateway.Spool.FileSpool>();
        var content = Path.Combine(_world.Root, "admin-held.eml");
        await File.WriteAllTextAsync(content, "From: <alice@example.test>\r\nSubject: admin\r\n\r\nbody\r\n");
        var envelope = new Gateway.Spool.SpoolEnvelope
        {
            Id = Gateway.Spool.SpoolId.New(DateTimeOffset.UtcNow), MailFrom = "alice@example.test", Client = "127.0.0.1", ReceivedAt = DateTimeOffset.UtcNow,
            Recipients = [new Gateway.Spool.SpoolRecipient { Address = "bob@partner.test" }], // bob's certificate is known
        };
        await spool.CopyToHoldAsync(envelope, Gateway.Spool.SpooledContent.InFile(content), "admin-held",
            [new Gateway.Spool.SpoolRecipient { Address = "bob@partner.test", Status = Gateway.Spool.RecipientStatus.Held }], CancellationToken.None);

        Assert.Empty(await gateway.Services.GetRequiredService<HeldForCertificateService>().RecheckAsync(CancellationToken.None));
        Assert.True(File.Exists(Path.Combine(_world.SpoolPath, "hold", "admin-held.json")));
    }

    /// <summary>The per-recipient fields of the report the audit event names, read from the outbox as a mail client reads them.</summary>
    private async Task<MimeKit.HeaderList> ReportAsync(RunningGateway gateway, string eventName)
    {
        var queued = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, eventName));
        var id = queued.GetProperty("status").GetString()!;
        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered") && e.GetProperty("spoolId").GetString() == id);
        var report = MimeKit.MimeMessage.Load(_world.OutboxFileOf(delivered));
        var status = Assert.IsType<MimeKit.MessageDeliveryStatus>(Assert.IsType<MimeKit.MultipartReport>(report.Body)[1]);
        return status.StatusGroups[1];
    }
}
