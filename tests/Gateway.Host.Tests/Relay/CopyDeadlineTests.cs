using Gateway.Configuration;
using Gateway.Relay;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using static Gateway.Tests.Fixtures.ScriptedRelay;

namespace Gateway.Tests.Relay;

/// <summary>
/// How long a copy may take with the upstream. The reply to the end of the data gets RFC 5321's
/// 10 minutes (§4.5.3.2.6), not Relay:Timeout: given up sooner, a copy the upstream may have
/// queued is deferred and delivered again by every retry. The timeouts here are shortened so the
/// tests run in seconds; the proportions are the real ones.
/// </summary>
public sealed class CopyDeadlineTests
{
    private static readonly TimeSpan Slow = TimeSpan.FromMilliseconds(1500);

    [Theory]
    [InlineData(true, false)]  // MAIL, RCPT and DATA in one batch, the dot's reply awaited
    [InlineData(true, true)]   // the whole copy as BDAT LAST in the batch
    [InlineData(false, false)] // each command in its own step
    public async Task AFinalReplySlowerThanRelayTimeout_IsWaitedFor_AndTheCopyIsDeliveredOnce(bool pipelining, bool chunking)
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, [.. pipelining ? ["PIPELINING"] : Array.Empty<string>(), .. chunking ? ["CHUNKING"] : Array.Empty<string>()]);
            Assert.StartsWith("MAIL FROM:", await c.LineAsync());
            if (!pipelining) await c.SayAsync("250 ok");
            Assert.StartsWith("RCPT TO:", await c.LineAsync());
            if (!pipelining) await c.SayAsync("250 ok");
            if (chunking)
            {
                Assert.Equal($"BDAT {Message.Length} LAST", await c.LineAsync());
                await c.BytesAsync(Message.Length);
                await c.SayAsync("250 ok\n250 ok");
            }
            else
            {
                Assert.Equal("DATA", await c.LineAsync());
                await c.SayAsync(pipelining ? "250 ok\n250 ok\n354 go" : "354 go");
                await c.DataAsync();
            }
            await Task.Delay(Slow); // a content filter at work: three times Relay:Timeout
            await c.SayAsync("250 2.0.0 queued");
            await QuitAsync(c);
        });

        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = RelayTo(upstream.Port, timeout: TimeSpan.FromMilliseconds(500), finalReplyTimeout: TimeSpan.FromSeconds(5), pipelining: pipelining))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
        await upstream.Finished(Wait);

        var result = Assert.Single(results);
        Assert.Equal((RelayOutcome.Accepted, "250 2.0.0 queued"), (result.Outcome, result.Reply));
        Assert.Equal(1, upstream.Connections);
    }

    /// <summary>One connection at a time unless told otherwise, one message each, so each copy's QUIT comes when it is done.</summary>
    private static SmtpRelay RelayTo(int port, TimeSpan timeout, TimeSpan finalReplyTimeout, bool pipelining = true, int maxConnections = 1) => new(Options.Create(new GatewayOptions
    {
        Smtp = new SmtpOptions { ServerName = "gateway.test" },
        Relay = new RelayOptions
        {
            Host = "127.0.0.1", Port = port, TlsMode = RelayTlsMode.None, Pipelining = pipelining, MaxConnections = maxConnections, MaxMessagesPerConnection = 1,
            Timeout = timeout, FinalReplyTimeout = finalReplyTimeout,
        },
    }), TimeProvider.System, NullLogger<SmtpRelay>.Instance);
}
