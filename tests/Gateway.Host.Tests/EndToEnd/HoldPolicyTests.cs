using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.EndToEnd;

/// <summary>A policy that holds instead of refusing: the copy waits in hold/ and nothing readable leaves.</summary>
public sealed class HoldPolicyTests : IAsyncLifetime
{
    private const string HoldingPolicy = """
        {
          "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
          "rules": [
            { "name": "partners-encrypted-or-held", "recipients": ["partner.test"], "encrypt": "required", "missingCertificate": "hold" }
          ]
        }
        """;

    private readonly GatewayWorld _world = new(HoldingPolicy);
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await RunningGateway.StartAsync(_world);

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _world.Dispose();
    }

    [Fact]
    public async Task RequiredRecipientWithoutCertificate_IsHeld_AndNothingIsRelayedToThem()
    {
        await _gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "erin@partner.test", "hold me", "Held plaintext.\r\n"),
            "alice@example.test", "erin@partner.test", "bob@partner.test");

        var held = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "held", "erin@partner.test"));
        Assert.Equal("partners-encrypted-or-held", held.GetProperty("rule").GetString());
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));

        var holdFolder = Path.Combine(_world.SpoolPath, "hold");
        var heldEnvelope = Assert.Single(Directory.GetFiles(holdFolder, "*.json"));
        var recipients = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(heldEnvelope)).RootElement.GetProperty("recipients");
        Assert.Equal("erin@partner.test", Assert.Single(recipients.EnumerateArray()).GetProperty("address").GetString());
        Assert.Single(Directory.GetFiles(holdFolder, "*.eml"));

        // Bob's encrypted copy, and the notice to alice that erin's copy is held (headers only): nothing goes to erin, no plaintext anywhere.
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "alice@example.test"));
        var envelopes = Directory.GetFiles(_world.OutboxPath, "*.envelope.json").Select(File.ReadAllText).ToList();
        Assert.Equal(2, envelopes.Count);
        Assert.All(envelopes, e => Assert.DoesNotContain("erin@partner.test", e));
        Assert.All(Directory.GetFiles(_world.OutboxPath, "*.eml"), f => Assert.DoesNotContain("Held plaintext", File.ReadAllText(f)));
        Assert.Contains(_gateway.AuditEvents(), e => RunningGateway.Is(e, "delay-warned"));
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "bounced"));
    }

    [Fact]
    public async Task HeldRecipient_KeepsItsDsnRequest_ThroughHoldAndRelease()
    {
        await _gateway.SendRawAsync("alice@example.test", "erin@partner.test", "held-dsn", "", "NOTIFY=SUCCESS ORCPT=rfc822;erin+2Bsales@partner.test");
        var held = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "held", "erin@partner.test"));
        var name = held.GetProperty("status").GetString()!["hold/".Length..];
        var heldRecipient = System.Text.Json.JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(_world.SpoolPath, "hold", name + ".json")))
            .RootElement.GetProperty("recipients")[0];
        Assert.Equal("success", heldRecipient.GetProperty("notify").GetString());
        Assert.Equal("rfc822;erin+2Bsales@partner.test", heldRecipient.GetProperty("originalRecipient").GetString());

        // Erin's certificate arrives; the admin releases the message; it goes out encrypted, and the
        // outbox (no DSN) makes Gateway report success as erin asked, with her ORCPT.
        using var erin = _world.Pki.Issue("erin@partner.test");
        await File.WriteAllTextAsync(Path.Combine(_world.Certificates, "erin.crt"), erin.CertificatePem);
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificates-reloaded"));
        var released = await _gateway.Services.GetRequiredService<Gateway.Spool.SpoolAdministration>().ReleaseAsync(name, CancellationToken.None);
        Assert.True(released.Succeeded, released.Message);

        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "success-reported"));
        // Queued is not yet written: the report reaches the outbox when a worker relays it to alice.
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "alice@example.test"));
        var report = await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(_world.OutboxPath, "*.eml"), f => File.ReadAllText(f).Contains("Successful Mail Delivery Report")));
        Assert.Contains("Original-Recipient: rfc822; erin+sales@partner.test", report);
        Assert.Contains("Action: relayed", report);
    }
}
