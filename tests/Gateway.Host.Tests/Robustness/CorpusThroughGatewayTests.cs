using System.Text;
using Gateway.Testing;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Smtp;
using Xunit.Abstractions;

namespace Gateway.Tests.Robustness;

/// <summary>
/// Real and broken mail through the whole gateway with a sign-and-encrypt policy: every message
/// reaches a clear outcome (relayed encrypted, or refused/held with a reason), the worker never
/// dies, nothing accepted is left behind.
/// </summary>
public sealed class CorpusThroughGatewayTests(ITestOutputHelper output) : GatewayRelayingToSink
{
    protected override void Configure(GatewayWorld world)
    {
        world.Settings["Gateway:Smtp:MaxMessageSize"] = (20 * 1024 * 1024).ToString();
    }

    [Fact]
    public async Task EveryCorpusMessage_ReachesAClearOutcome_AndNothingIsLeftInTheQueue()
    {
        var accepted = new Dictionary<string, string>();
        var refusedAtSmtp = new List<string>();
        foreach (var (name, message) in Corpus.Messages())
        {
            await using var client = await RawSmtpClient.ConnectAsync(Running.Port);
            await client.ReadReplyAsync();
            await client.CommandAsync("EHLO corpus.example.test");
            await client.CommandAsync("MAIL FROM:<alice@example.test>");
            await client.CommandAsync("RCPT TO:<bob@partner.test>");
            Assert.StartsWith("354", await client.CommandAsync("DATA"));
            await client.SendAsync(Encoding.Latin1.GetBytes(DotStuff(message) + ".\r\n"));
            var reply = await client.ReadReplyAsync(TimeSpan.FromSeconds(30)) ?? "(closed)";
            if (QueuedReply.TryId(reply) is { } id) accepted[id] = name;
            else refusedAtSmtp.Add($"{name}: {reply}");
        }
        output.WriteLine($"{accepted.Count} accepted, {refusedAtSmtp.Count} refused in the SMTP dialogue");
        foreach (var refusal in refusedAtSmtp) output.WriteLine("refused: " + refusal);
        // A refusal in the dialogue is a clear answer too, but it must be a 5xx with a reason, never our 451.
        Assert.All(refusedAtSmtp, r => Assert.Matches(@": 5\d\d \d\.\d+\.\d+ ", r));

        foreach (var (id, name) in accepted)
        {
            var completed = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("spoolId").GetString() == id, TimeSpan.FromSeconds(60));
            output.WriteLine($"{name}: {completed.GetProperty("status").GetString()}");
        }
        var delivered = Running.AuditEvents().Where(e => RunningGateway.Is(e, "delivered", "bob@partner.test")).ToList();
        // Encrypted by the gateway, or an envelope the client made (old clients' x-pkcs7-mime), passed on as it came.
        Assert.All(delivered, e => Assert.True(e.GetProperty("action").GetString()!.Contains("encrypted", StringComparison.Ordinal)
            || e.GetProperty("reason").GetString() == "already encrypted by the client; passed on unchanged", e.GetRawText()));
        Assert.DoesNotContain(Sink.Messages.Where(m => m.RcptTo.Contains("bob@partner.test")), m => !Encoding.Latin1.GetString(m.Data).Contains("pkcs7-mime", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(Directory.GetFiles(Path.Combine(World.SpoolPath, "incoming")), f => accepted.Keys.Any(id => f.Contains(id, StringComparison.Ordinal)));
        Assert.Empty(Directory.GetFiles(Path.Combine(World.SpoolPath, "corrupt")));
    }

    private static string DotStuff(byte[] message)
    {
        var text = Encoding.Latin1.GetString(message);
        if (!text.EndsWith("\r\n", StringComparison.Ordinal)) text += "\r\n";
        return (text.StartsWith('.') ? "." : "") + text.Replace("\r\n.", "\r\n..", StringComparison.Ordinal);
    }
}
