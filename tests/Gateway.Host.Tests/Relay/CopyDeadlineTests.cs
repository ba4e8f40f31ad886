using System.Diagnostics;
using Gateway.Configuration;
using Gateway.Relay;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

using static Gateway.Tests.Fixtures.ScriptedRelay;

namespace Gateway.Tests.Relay;

/// <summary>
/// How long a copy may take with the upstream. The reply to the end of the data gets RFC 5321's
/// 10 minutes (§4.5.3.2.6), not Relay:Timeout: given up sooner, a copy the upstream may have
/// queued is deferred and delivered again by every retry. The copy as a whole gets a time that
/// starts when it has a connection and grows with its size. The timeouts are shortened so the
/// tests run in seconds; where the copy's own deadline is tested, a fake clock ends it.
/// </summary>
public sealed class CopyDeadlineTests
{
    private static readonly TimeSpan RelayTimeout = TimeSpan.FromSeconds(1);

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
            await Task.Delay(RelayTimeout * 2); // a content filter at work
            await c.SayAsync("250 2.0.0 queued");
            await QuitAsync(c);
        });

        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = RelayTo(upstream.Port, finalReplyTimeout: TimeSpan.FromSeconds(10), pipelining: pipelining))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
        await upstream.Finished(Wait);

        var result = Assert.Single(results);
        Assert.Equal((RelayOutcome.Accepted, "250 2.0.0 queued"), (result.Outcome, result.Reply));
        Assert.Equal(1, upstream.Connections);
    }

    [Fact]
    public async Task AFinalReplyThatNeverComes_IsGivenUpAfterTheFinalReplyTimeout_AndTheCopyWaits()
    {
        var finalReplyTimeout = RelayTimeout * 2;
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
        using (var relay = RelayTo(upstream.Port, finalReplyTimeout))
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
        // 1 MiB whose bytes take ~5.6 s to go, as over a slow uplink: more than the 5 × Relay:Timeout
        // a copy once had in all, far less than 1 MiB at the minimum rate the deadline allows for.
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
        using (var relay = RelayTo(upstream.Port, finalReplyTimeout: RelayTimeout))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], new SlowlySentContent(System.Text.Encoding.ASCII.GetBytes(body), TimeSpan.FromMilliseconds(350)), null, CancellationToken.None);
        await upstream.Finished(Wait);

        Assert.Equal(RelayOutcome.Accepted, Assert.Single(results).Outcome);
    }

    [Fact]
    public async Task ACopyWaitingForAFreeConnection_GetsItsWholeTimeOnceItHasOne()
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var firstHolds = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = new ScriptedUpstream(
            async c => await TrickleAsync(c, "220-upstream.test still starting", firstHolds),
            async c =>
            {
                await Task.Delay(TimeSpan.FromSeconds(1)); // half of Relay:Timeout, more than what the copy would have left if its wait counted
                await GreetAsync(c, "PIPELINING");
                for (var i = 0; i < 3; i++) await c.LineAsync();
                await AcceptAsync(c);
                await QuitAsync(c);
            });

        RecipientRelayResult first, second;
        using (var relay = RelayTo(upstream.Port, TimeSpan.FromSeconds(2), maxConnections: 1, time: clock, timeout: TimeSpan.FromSeconds(2)))
        {
            var firstCopy = relay.SendAsync("copy-1", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
            await firstHolds.Task.WaitAsync(Wait);
            var secondCopy = relay.SendAsync("copy-2", "dave@other.test", ["grace@elsewhere.test"], Content(Message), null, CancellationToken.None);
            await Task.Delay(300); // the second copy now waits for the one connection
            // Far past any copy's time: the first copy's runs out, the second's has not started yet.
            clock.Advance(TimeSpan.FromHours(1));
            first = Assert.Single(await firstCopy.WaitAsync(Wait));
            second = Assert.Single(await secondCopy.WaitAsync(Wait));
        }
        await upstream.Finished(Wait);

        Assert.Equal(RelayOutcome.Temporary, first.Outcome);
        Assert.Equal((RelayOutcome.Accepted, "250 queued"), (second.Outcome, second.Reply));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ARecipientRefusedBeforeTheCopysTimeRanOut_StaysRefused_AndOnlyTheOthersWait(bool pipelining)
    {
        var clock = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var trickling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, pipelining ? ["PIPELINING"] : []);
            if (pipelining)
            {
                for (var i = 0; i < 4; i++) await c.LineAsync();
                await c.SayAsync("250 ok\n550 5.1.1 unknown");
            }
            else
            {
                await c.LineAsync();
                await c.SayAsync("250 ok");
                await c.LineAsync();
                await c.SayAsync("550 5.1.1 unknown");
                await c.LineAsync();
            }
            await TrickleAsync(c, "250-still looking", trickling); // the second RCPT's reply
        });

        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = RelayTo(upstream.Port, RelayTimeout, pipelining, time: clock, timeout: TimeSpan.FromSeconds(2)))
        {
            var sending = relay.SendAsync("copy", "dave@other.test", ["gone@elsewhere.test", "frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
            await trickling.Task.WaitAsync(Wait);
            clock.Advance(TimeSpan.FromHours(1)); // past the copy's time
            results = await sending.WaitAsync(Wait);
        }
        await upstream.Finished(Wait);

        Assert.Equal((RelayOutcome.Permanent, "550 5.1.1 unknown"), (results[0].Outcome, results[0].Reply));
        Assert.Equal(RelayOutcome.Temporary, results[1].Outcome);
        Assert.Equal("451 4.4.1 the transaction with the upstream broke off: no end of the transaction within the time allowed for the copy", results[1].Reply);
        Assert.DoesNotContain("Subject: scripted", upstream.Received);
    }

    [Fact]
    public async Task AStopDuringTheTransaction_EndsTheAttemptByCancellation_NotWithResults()
    {
        var trickling = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 3; i++) await c.LineAsync();
            await c.SayAsync("250 ok");
            await TrickleAsync(c, "250-still looking", trickling);
        });

        using var stop = new CancellationTokenSource();
        using (var relay = RelayTo(upstream.Port, RelayTimeout, timeout: TimeSpan.FromSeconds(2)))
        {
            var sending = relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, stop.Token);
            await trickling.Task.WaitAsync(Wait);
            await stop.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => sending.WaitAsync(Wait));
        }
        await upstream.Finished(Wait);
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

    /// <summary>
    /// Lines of one reply, each well within Relay:Timeout, until the client closes: only the copy's
    /// own deadline ends that. Each line goes at once (Nagle's wait for the client's delayed ACK
    /// could hold one past Relay:Timeout).
    /// </summary>
    private static async Task TrickleAsync(ScriptedUpstream.Connection c, string line, TaskCompletionSource started)
    {
        c.Stream.Socket.NoDelay = true;
        var closed = c.LineAsync(); // the client has nothing more to say: null when it closes
        for (var n = 0; n < 90 && !closed.IsCompleted; n++)
        {
            await c.SayAsync(line);
            if (n == 2) started.TrySetResult();
            await Task.WhenAny(closed, Task.Delay(150));
        }
        Assert.Null(await closed);
    }

    /// <summary>One message per connection, so each copy's QUIT comes when it is done.</summary>
    private static SmtpRelay RelayTo(int port, TimeSpan finalReplyTimeout, bool pipelining = true, int maxConnections = 8, TimeProvider? time = null, TimeSpan? timeout = null) => new(Options.Create(new GatewayOptions
    {
        Smtp = new SmtpOptions { ServerName = "gateway.test" },
        Relay = new RelayOptions
        {
            Host = "127.0.0.1", Port = port, TlsMode = RelayTlsMode.None, Pipelining = pipelining, MaxConnections = maxConnections, MaxMessagesPerConnection = 1,
            Timeout = timeout ?? RelayTimeout, FinalReplyTimeout = finalReplyTimeout,
        },
    }), time ?? TimeProvider.System, NullLogger<SmtpRelay>.Instance);

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
