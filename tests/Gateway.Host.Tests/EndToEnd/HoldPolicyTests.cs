using Gateway.Tests.Fixtures;

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

        // Only bob's encrypted copy left; it does not go to erin and holds no plaintext.
        var outbox = Assert.Single(Directory.GetFiles(_world.OutboxPath, "*.envelope.json"));
        Assert.DoesNotContain("erin@partner.test", await File.ReadAllTextAsync(outbox));
        Assert.All(Directory.GetFiles(_world.OutboxPath, "*.eml"), f => Assert.DoesNotContain("Held plaintext", File.ReadAllText(f)));
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "bounced"));
    }
}
