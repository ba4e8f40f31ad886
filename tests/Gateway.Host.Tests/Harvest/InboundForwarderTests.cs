using System.Text;
using Gateway.Configuration;
using Gateway.Harvest;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Harvest;

/// <summary>
/// The inbound endpoint hands a message to the internal MTA before it answers the sender, with one
/// reply for all recipients: a partial refusal is a refusal, and a temporary one wins, so the
/// sender retries rather than bounces a recipient that only had to wait.
/// </summary>
public sealed class InboundForwarderTests
{
    [Fact]
    public async Task SomeRecipientsRefused_TemporarilyAndForGood_TheSenderGetsTheTemporaryRefusal()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await c.SayAsync("220 internal.test ESMTP");
            Assert.Equal("EHLO gateway.test", await c.LineAsync()); // Smtp:ServerName, a name an MTA may require to be qualified
            await c.SayAsync("250-internal.test\n250 PIPELINING");
            for (var i = 0; i < 5; i++) await c.LineAsync();
            await c.SayAsync("250 ok\n550 5.1.1 unknown\n450 4.2.1 mailbox busy\n250 ok\n354 go");
            Assert.Contains("Subject: inbound", await c.DataAsync());
            await c.SayAsync("250 2.0.0 queued");
            Assert.Equal("QUIT", await c.LineAsync());
            await c.SayAsync("221 bye");
        });
        var forwarder = new InboundForwarder(new HarvestOptions { UpstreamHost = "127.0.0.1", UpstreamPort = upstream.Port, Timeout = TimeSpan.FromSeconds(10) }, "gateway.test");

        var (code, text) = await forwarder.ForwardAsync(Encoding.ASCII.GetBytes("Subject: inbound\r\n\r\nhello\r\n"), "partner@other.test",
            ["gone@example.test", "busy@example.test", "alice@example.test"], CancellationToken.None);
        await upstream.Finished(TimeSpan.FromSeconds(15));

        Assert.Equal(450, code);
        Assert.Equal("4.2.1 mailbox busy (2 of 3 recipients refused upstream)", text);
    }

    [Fact]
    public async Task EveryRecipientAccepted_TheSenderGetsTheInternalMtasOwnAnswer()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await c.SayAsync("220 internal.test ESMTP");
            await c.LineAsync();
            await c.SayAsync("250-internal.test\n250 CHUNKING");
            Assert.StartsWith("MAIL FROM:<partner@other.test>", await c.LineAsync());
            await c.SayAsync("250 ok");
            await c.LineAsync();
            await c.SayAsync("250 ok");
            Assert.Equal("BDAT 27 LAST", await c.LineAsync());
            await c.BytesAsync(27);
            await c.SayAsync("250 2.0.0 queued as 42");
            await c.LineAsync();
            await c.SayAsync("221 bye");
        });
        var forwarder = new InboundForwarder(new HarvestOptions { UpstreamHost = "127.0.0.1", UpstreamPort = upstream.Port, Timeout = TimeSpan.FromSeconds(10) }, "gateway.test");

        var (code, text) = await forwarder.ForwardAsync(Encoding.ASCII.GetBytes("Subject: inbound\r\n\r\nhello\r\n"), "partner@other.test", ["alice@example.test"], CancellationToken.None);
        await upstream.Finished(TimeSpan.FromSeconds(15));

        Assert.Equal((250, "2.0.0 passed on: 2.0.0 queued as 42"), (code, text));
    }

    [Fact]
    public async Task AnInternalMtaSlowToAnswerTheEndOfTheData_IsWaitedFor_AndTheSenderGetsItsAcceptance()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await c.SayAsync("220 internal.test ESMTP");
            await c.LineAsync();
            await c.SayAsync("250-internal.test\n250 PIPELINING");
            for (var i = 0; i < 3; i++) await c.LineAsync();
            await c.SayAsync("250 ok\n250 ok\n354 go");
            await c.DataAsync();
            await Task.Delay(TimeSpan.FromSeconds(3.5)); // a content filter at work: more than the 3 × Harvest:Timeout a forward once had in all
            await c.SayAsync("250 2.0.0 queued as 43");
            Assert.Equal("QUIT", await c.LineAsync());
            await c.SayAsync("221 bye");
        });
        var forwarder = new InboundForwarder(new HarvestOptions
        {
            UpstreamHost = "127.0.0.1", UpstreamPort = upstream.Port, Timeout = TimeSpan.FromSeconds(1), ForwardTimeout = TimeSpan.FromSeconds(10),
        }, "gateway.test");

        var (code, text) = await forwarder.ForwardAsync(Encoding.ASCII.GetBytes("Subject: inbound\r\n\r\nhello\r\n"), "partner@other.test", ["alice@example.test"], CancellationToken.None);
        await upstream.Finished(TimeSpan.FromSeconds(15));

        // Before, 451 after 1 s (3 s once the final reply had its own wait): the sender sent it again, and the internal MTA, which had queued it, delivered it twice.
        Assert.Equal((250, "2.0.0 passed on: 2.0.0 queued as 43"), (code, text));
    }
}
