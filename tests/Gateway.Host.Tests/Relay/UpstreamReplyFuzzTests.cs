using System.Diagnostics;
using System.Text;
using Gateway.Configuration;
using Gateway.Relay;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Relay;

/// <summary>
/// An upstream that answers a pipelined batch with seeded mixes of good replies, wrong codes,
/// broken lines, early goodbyes and silence: every copy still gets one result within the
/// timeouts, no exception escapes, and a copy counts as delivered only when the upstream got
/// the whole message.
/// </summary>
public sealed class UpstreamReplyFuzzTests
{
    private static readonly string[] Pieces =
    [
        "250 ok\r\n", "250 ok\r\n", "354 go ahead\r\n", "354 go ahead\r\n", "550 5.1.1 unknown\r\n", "451 4.3.0 later\r\n",
        "421 4.3.2 closing\r\n", "221 bye\r\n", "250-continued\r\n", "250\r\n", "2500 five digits\r\n", "hello\r\n", "\r\n",
        "354-go\r\n354 ahead\r\n", "250-a\r\n550 b\r\n", "199 early\r\n", new string('x', 5000) + "\r\n", "250 no line end",
    ];

    [Fact]
    public async Task SeededReplyMixes_NeverHangOrThrow_AndNothingCountsAsDeliveredThatWasNotReceivedWhole()
    {
        var clock = Stopwatch.StartNew();
        var outcomes = new Dictionary<RelayOutcome, int>();
        for (var seed = 0; seed < 150; seed++)
        {
            var random = new Random(seed);
            // The right replies, each swapped for a random piece now and then, some dropped, some added.
            string Blob(params string[] right) => string.Concat(right.SelectMany(reply => random.Next(10) switch
            {
                0 => [],
                1 or 2 => [Pieces[random.Next(Pieces.Length)]],
                3 => [reply, Pieces[random.Next(Pieces.Length)]],
                _ => new[] { reply },
            }));
            var (first, second, closeEarly) = (Blob("250 ok\r\n", "250 ok\r\n", "354 go ahead\r\n"), Blob("250 queued\r\n"), random.Next(8) == 0);
            var receivedWhole = false;
            await using var upstream = new ScriptedUpstream(async c =>
            {
                await c.SayAsync("220 fuzz.test ESMTP");
                await c.LineAsync();
                await c.SayAsync("250-fuzz.test\n250 PIPELINING");
                for (var i = 0; i < 3; i++) await c.LineAsync();
                await c.Stream.WriteAsync(Encoding.ASCII.GetBytes(first));
                if (closeEarly) return;
                using var silence = new CancellationTokenSource(TimeSpan.FromSeconds(2));
                try
                {
                    while (await c.LineAsync().WaitAsync(silence.Token) is { } line)
                    {
                        if (line != ".") continue;
                        receivedWhole = true;
                        break;
                    }
                    await c.Stream.WriteAsync(Encoding.ASCII.GetBytes(second));
                    while (await c.LineAsync().WaitAsync(silence.Token) is not null) { }
                }
                catch (Exception e) when (e is OperationCanceledException or IOException) { }
            });

            IReadOnlyList<RecipientRelayResult> results;
            using (var relay = new SmtpRelay(Options.Create(new GatewayOptions
                   {
                       // The final reply too gets 300 ms: silence there would otherwise be waited out for 2 s (the script's end).
                       Relay = new RelayOptions { Host = "127.0.0.1", Port = upstream.Port, TlsMode = RelayTlsMode.None, MaxMessagesPerConnection = 1, Timeout = TimeSpan.FromMilliseconds(300), FinalReplyTimeout = TimeSpan.FromMilliseconds(300) },
                   }), TimeProvider.System, NullLogger<SmtpRelay>.Instance))
                results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], new MemoryStream("Subject: fuzz\r\n\r\nbody\r\n"u8.ToArray()), null, CancellationToken.None)
                    .WaitAsync(TimeSpan.FromSeconds(10));

            var result = Assert.Single(results);
            Assert.True(result.Outcome != RelayOutcome.Accepted || Volatile.Read(ref receivedWhole),
                $"seed {seed}: delivered without the whole message reaching the upstream (replies {Show(first)} then {Show(second)}): {result.Reply}");
            Assert.Matches(@"^[245]\d\d ", result.Reply);
            outcomes[result.Outcome] = outcomes.GetValueOrDefault(result.Outcome) + 1;
        }
        // The mixes reach every outcome, so the check on deliveries above is exercised.
        Assert.All(Enum.GetValues<RelayOutcome>(), o => Assert.True(outcomes.GetValueOrDefault(o) > 0, $"no {o} among {string.Join(", ", outcomes)}"));
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(3), $"150 mixes took {clock.Elapsed}");
    }

    private static string Show(string replies) => replies.Length > 80 ? replies[..80].ReplaceLineEndings("|") + "…" : replies.ReplaceLineEndings("|");
}
