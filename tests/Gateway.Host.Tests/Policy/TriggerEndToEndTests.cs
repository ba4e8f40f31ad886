using System.Text;
using Gateway.Tests.Fixtures;
using MimeKit;

namespace Gateway.Tests.Policy;

/// <summary>
/// Triggers through the real gateway: the mark makes encryption required (a recipient without a
/// certificate is refused, never sent plaintext), and no copy leaves with the mark on it.
/// </summary>
public sealed class TriggerEndToEndTests : IAsyncLifetime
{
    private const string TriggerPolicy = """
        {
          "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
          "triggers": {
            "subjectTag": "[secure]",
            "header": { "name": "X-Gateway-Encrypt", "value": "yes" },
            "allowedSenders": [ "example.test" ]
          }
        }
        """;

    private readonly GatewayWorld _world = new(TriggerPolicy);
    private RunningGateway _gateway = null!;

    public async Task InitializeAsync() => _gateway = await RunningGateway.StartAsync(_world);

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _world.Dispose();
    }

    private static string Raw(string from, string subject, string id) =>
        $"From: {from}\r\nTo: bob@partner.test, dave@elsewhere.test\r\nSubject: {subject}\r\nMessage-ID: <{id}>\r\n" +
        "X-Gateway-Encrypt: yes\r\nMIME-Version: 1.0\r\nContent-Type: text/plain; charset=us-ascii\r\n\r\nSecret figures: 42.\r\nX-Gateway-Encrypt: yes\r\n";

    private Task SendRawAsync(string raw, string from, params string[] to) =>
        _gateway.SendAsync(MimeMessage.Load(new MemoryStream(Encoding.ASCII.GetBytes(raw))), from, to);

    [Fact]
    public async Task TriggeredMessage_IsEncryptedForWhoHasACertificate_RefusedForWhoHasNot_AndLeavesWithoutTheMarks()
    {
        await SendRawAsync(Raw("alice@example.test", "[secure] Q3", "t1@example.test"), "alice@example.test", "bob@partner.test", "dave@elsewhere.test");

        var refused = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "refused", "dave@elsewhere.test"));
        Assert.Contains("with subject tag \"[secure]\"", refused.GetProperty("reason").GetString());
        var delivered = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "bob@partner.test"));
        Assert.Equal("encrypted", delivered.GetProperty("action").GetString());
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));

        // The outbox also holds the bounce to alice about dave; bob's copy is the one addressed to him.
        var envelope = Assert.Single(Directory.GetFiles(_world.OutboxPath, "*.envelope.json"), f => File.ReadAllText(f).Contains("bob@partner.test"));
        Assert.DoesNotContain("dave@elsewhere.test", await File.ReadAllTextAsync(envelope));
        var copy = await File.ReadAllTextAsync(envelope.Replace(".envelope.json", ".eml", StringComparison.Ordinal));
        Assert.Contains("application/pkcs7-mime", copy);
        Assert.DoesNotContain("Secret figures", copy);
        Assert.DoesNotContain("X-Gateway-Encrypt", copy, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Subject: Q3\r\n", copy);
    }

    [Fact]
    public async Task SenderNotAllowed_GetsNoEncryption_ButTheHeaderIsRemoved_AndEveryOtherByteKept()
    {
        var raw = Raw("mallory@elsewhere.test", "[secure] hello", "t2@example.test");
        await SendRawAsync(raw, "mallory@elsewhere.test", "dave@elsewhere.test");

        var delivered = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        Assert.Equal("relayed unchanged", delivered.GetProperty("action").GetString());

        var copy = await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(_world.OutboxPath, "*.eml")));
        var expected = raw.Replace("X-Gateway-Encrypt: yes\r\nMIME-Version", "MIME-Version", StringComparison.Ordinal);
        Assert.Equal(expected, TraceHeaders.Strip(copy));
    }

    [Fact]
    public async Task UnmarkedMessage_FromAnAllowedSender_IsRelayedAsItCame()
    {
        var raw = Raw("alice@example.test", "plain", "t3@example.test").Replace("X-Gateway-Encrypt: yes\r\nMIME", "MIME", StringComparison.Ordinal);
        await SendRawAsync(raw, "alice@example.test", "dave@elsewhere.test");

        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        Assert.Equal(raw, TraceHeaders.Strip(await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(_world.OutboxPath, "*.eml")))));
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "work")));
    }
}
