using System.Diagnostics;
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

    [Fact]
    public async Task AFinalReplyThatNeverComes_IsGivenUpAfterTheFinalReplyTimeout_AndTheCopyWaits()
    {
        var finalReplyTimeout = TimeSpan.FromMilliseconds(1500);
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 3; i++) await c.LineAsync();
            await c.SayAsync("250 ok\n250 ok\n354 go");
            await c.DataAsync();
            await c.LineAsync(); // no answer: the client gives up and closes
        });

        var clock = Stopwatch.StartNew();
        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = RelayTo(upstream.Port, timeout: TimeSpan.FromMilliseconds(300), finalReplyTimeout: finalReplyTimeout))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
        clock.Stop();
        await upstream.Finished(Wait);

        var result = Assert.Single(results);
        Assert.Equal(RelayOutcome.Temporary, result.Outcome);
        Assert.StartsWith("451 4.4.1", result.Reply);
        Assert.InRange(clock.Elapsed, finalReplyTimeout - TimeSpan.FromMilliseconds(100), finalReplyTimeout + TimeSpan.FromSeconds(4));
    }

    [Fact]
    public async Task ACopyWhoseBytesTakeLongerThanFiveRelayTimeouts_IsDelivered_ItsTimeGrowsWithItsSize()
    {
        // 1 MiB whose bytes take ~3 s to go, as over a slow uplink: more than the 5 × 400 ms a copy
        // once had in all, far less than 1 MiB at the minimum rate the deadline allows for.
        var line = new string('x', 1022) + "\r\n";
        var body = "Subject: large\r\n\r\n" + string.Concat(Enumerable.Repeat(line, 1024));
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 3; i++) await c.LineAsync();
            await c.SayAsync("250 ok\n250 ok\n354 go");
            Assert.Equal(body, await c.DataAsync());
            await c.SayAsync("250 2.0.0 queued");
            await QuitAsync(c);
        });

        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = RelayTo(upstream.Port, timeout: TimeSpan.FromMilliseconds(400), finalReplyTimeout: TimeSpan.FromMilliseconds(400)))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], new SlowlySentContent(System.Text.Encoding.ASCII.GetBytes(body), TimeSpan.FromMilliseconds(180)), null, CancellationToken.None);
        await upstream.Finished(Wait);

        Assert.Equal(RelayOutcome.Accepted, Assert.Single(results).Outcome);
    }

    [Fact]
    public async Task ACopyWaitingForAFreeConnection_GetsItsWholeTimeOnceItHasOne()
    {
        // Four copies over one connection at a time, each taking 3 × 300 ms of a 600 ms Relay:Timeout:
        // the last waits ~2.7 s for its turn, then needs ~0.9 s, more than 5 × 600 ms in all.
        const int copies = 4;
        var pause = TimeSpan.FromMilliseconds(300);
        var script = async (ScriptedUpstream.Connection c) =>
        {
            await Task.Delay(pause);
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 3; i++) await c.LineAsync();
            await Task.Delay(pause);
            await c.SayAsync("250 ok\n250 ok\n354 go");
            await c.DataAsync();
            await Task.Delay(pause);
            await c.SayAsync("250 2.0.0 queued");
            await QuitAsync(c);
        };
        await using var upstream = new ScriptedUpstream(Enumerable.Repeat(script, copies).ToArray());

        IReadOnlyList<RecipientRelayResult>[] results;
        using (var relay = RelayTo(upstream.Port, timeout: TimeSpan.FromMilliseconds(600), finalReplyTimeout: TimeSpan.FromMilliseconds(600), maxConnections: 1))
            results = await Task.WhenAll(Enumerable.Range(0, copies).Select(n =>
                relay.SendAsync($"copy-{n}", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None)));
        await upstream.Finished(Wait);

        Assert.All(results, r => Assert.Equal(RelayOutcome.Accepted, Assert.Single(r).Outcome));
        Assert.Equal(copies, upstream.Connections);
    }

    [Fact]
    public void TheLargestCopy_IsAllowedItsBytesAtTheMinimumRate_AndTheFinalReplysTenMinutes()
    {
        // Smtp:MaxMessageSize (50 MiB), signed and encrypted: base64 and the CMS structure make it ~69 MiB.
        const long encrypted = 69L * 1024 * 1024;
        var settings = new UpstreamSettings("gateway.test", TimeSpan.FromSeconds(60), RelayTlsMode.Required, null, null, null, Chunking: true, Pipelining: true);

        var allowed = CopyDeadline.For(encrypted, settings);

        var transfer = TimeSpan.FromSeconds(encrypted / 32_768.0); // 256 kbit/s: ~37 minutes
        Assert.True(allowed >= transfer + TimeSpan.FromMinutes(10) + 5 * settings.Timeout, $"{allowed} for a copy of 69 MiB");
        Assert.True(CopyDeadline.For(10_000, settings) >= TimeSpan.FromMinutes(10) + 5 * settings.Timeout, "a small copy must still get RFC 5321's 10 minutes for its final reply");
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

    /// <summary>A spooled copy whose bytes, once scanned, come out slowly: the time they take is what a slow link costs.</summary>
    private sealed class SlowlySentContent(byte[] bytes, TimeSpan perRead) : MemoryStream(bytes, writable: false)
    {
        private int _rewinds;

        public override long Position
        {
            get => base.Position;
            set
            {
                base.Position = value;
                _rewinds++;
            }
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (_rewinds > 1) Thread.Sleep(perRead); // the scan reads at once; the sending is slow
            return base.Read(buffer, offset, count);
        }
    }
}
