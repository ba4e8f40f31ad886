using System.Text;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Relay;
using Gateway.Spool;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using static Gateway.Tests.Fixtures.ScriptedRelay;

namespace Gateway.Tests.Relay;

/// <summary>
/// The relay's own SMTP client against scripted upstreams: what it sends in which batches, what
/// each recipient's result says, and when a session is reused or dropped. The script waits for
/// whole batches before it answers, so a client that waited for replies in between would stall.
/// </summary>
public sealed class UpstreamSessionTests
{
    [Fact]
    public async Task WithPipelining_MailRcptAndData_GoInOneBatch_AndEachRecipientGetsItsOwnAnswer()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", "SIZE 1000000");
            var batch = new[] { await c.LineAsync() ?? "", await c.LineAsync() ?? "", await c.LineAsync() ?? "", await c.LineAsync() ?? "" };
            Assert.Equal([$"MAIL FROM:<dave@other.test> SIZE={Message.Length}", "RCPT TO:<frank@elsewhere.test>", "RCPT TO:<nobody@elsewhere.test>", "DATA"], batch);
            await c.SayAsync("250 2.1.0 ok\n250 2.1.5 ok\n550 5.1.1 no such user\n354 go ahead");
            Assert.Equal("Subject: scripted\r\n\r\nfirst line\r\n..starts with a dot\r\n", await c.DataAsync());
            await c.SayAsync("250-2.0.0 queued\n250 2.0.0 as 4711");
            await QuitAsync(c);
        });
        var results = await RelayAsync(upstream, ["frank@elsewhere.test", "nobody@elsewhere.test"]);

        var hop = new RecipientRelayResult("", RelayOutcome.Accepted, "") { Upstream = $"127.0.0.1:{upstream.Port}", Tls = "none" };
        Assert.Equal(hop with { Recipient = "frank@elsewhere.test", Reply = "250 2.0.0 queued 2.0.0 as 4711" }, results[0]);
        Assert.Equal(hop with { Recipient = "nobody@elsewhere.test", Outcome = RelayOutcome.Permanent, Reply = "550 5.1.1 no such user" }, results[1]);
    }

    [Fact]
    public async Task WithPipeliningAndChunking_TheWholeCopyGoesInOneBatch_AsBdatOfItsExactLength_Unstuffed()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", "CHUNKING", "8BITMIME");
            Assert.Equal("MAIL FROM:<dave@other.test> BODY=8BITMIME", await c.LineAsync());
            Assert.Equal("RCPT TO:<frank@elsewhere.test>", await c.LineAsync());
            var bdat = await c.LineAsync();
            var size = Encoding.UTF8.GetByteCount(Message + "Grüße\r\n");
            Assert.Equal($"BDAT {size} LAST", bdat);
            Assert.Equal(Message + "Grüße\r\n", await c.BytesAsync(size));
            await c.SayAsync("250 ok\n250 ok\n250 2.0.0 queued");
            await QuitAsync(c);
        });
        var results = await RelayAsync(upstream, ["frank@elsewhere.test"], Message + "Grüße\r\n");

        Assert.Equal(RelayOutcome.Accepted, Assert.Single(results).Outcome);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task ALargeCopy_WaitsForTheEnvelopesReplies_AndGoesNowhereWhenEveryRecipientIsRefused(bool refused)
    {
        var large = Message + new string('x', UpstreamSession.MaxChunkInBatch) + "\r\n";
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", "CHUNKING");
            Assert.StartsWith("MAIL FROM:", await c.LineAsync());
            Assert.StartsWith("RCPT TO:", await c.LineAsync());
            await Task.Delay(200);
            Assert.False(c.HasUnread, "the copy went before the envelope was answered");
            await c.SayAsync(refused ? "250 ok\n550 5.1.1 unknown" : "250 ok\n250 ok");
            if (!refused)
            {
                Assert.Equal($"BDAT {large.Length} LAST", await c.LineAsync());
                Assert.Equal(large, await c.BytesAsync(large.Length));
                await c.SayAsync("250 queued");
            }
            await QuitAsync(c);
        });

        var result = Assert.Single(await RelayAsync(upstream, ["frank@elsewhere.test"], large));

        Assert.Equal(refused ? RelayOutcome.Permanent : RelayOutcome.Accepted, result.Outcome);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task WithoutPipelining_EachCommandWaitsForItsReply_AndNoDataGoesWhenEveryRecipientIsRefused(bool offeredButTurnedOff)
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, offeredButTurnedOff ? ["PIPELINING"] : []);
            Assert.StartsWith("MAIL FROM:", await c.LineAsync());
            await Task.Delay(200);
            Assert.False(c.HasUnread, "the client sent RCPT before MAIL was answered, to an upstream without PIPELINING");
            await c.SayAsync("250 ok");
            Assert.StartsWith("RCPT TO:<frank@", await c.LineAsync());
            await c.SayAsync("450 4.2.1 try later");
            Assert.StartsWith("RCPT TO:<grace@", await c.LineAsync());
            await c.SayAsync("550 5.1.1 unknown");
            Assert.Equal("QUIT", await c.LineAsync()); // not DATA: nobody to send it to
            await c.SayAsync("221 bye");
        });
        var results = await RelayAsync(upstream, ["frank@elsewhere.test", "grace@elsewhere.test"], pipelining: !offeredButTurnedOff);

        Assert.Equal([RelayOutcome.Temporary, RelayOutcome.Permanent], results.Select(r => r.Outcome));
        Assert.Equal("450 4.2.1 try later", results[0].Reply);
    }

    [Fact]
    public async Task ABrokenReplyMidBatch_TrustsNoneOfTheRepliesBeforeIt_AndDefersTheWholeCopy()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 4; i++) await c.LineAsync();
            // A 354 to the second RCPT: the replies are out of step, so the 550 may not be the first recipient's.
            await c.SayAsync("250 ok\n550 5.1.1 unknown\n354 go ahead");
            await c.LineAsync(); // dropped, no QUIT
        });

        var results = await RelayAsync(upstream, ["gone@elsewhere.test", "frank@elsewhere.test"]);

        Assert.All(results, r => Assert.Equal(RelayOutcome.Temporary, r.Outcome));
        Assert.All(results, r => Assert.Contains("answered RCPT with 354", r.Reply));
    }

    [Fact]
    public async Task AnUpstreamThatHangsUpMidBatch_KeepsTheRefusalsItAlreadyGave_AndTheRestWait()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 5; i++) await c.LineAsync();
            // As Postfix does past smtpd_hard_error_limit: an answer or two, then 421 and the end.
            await c.SayAsync("250 ok\n550 5.1.1 unknown\n421 4.7.0 too many errors");
            c.Stream.Close();
        });

        var results = await RelayAsync(upstream, ["gone@elsewhere.test", "frank@elsewhere.test", "grace@elsewhere.test"]);

        Assert.Equal((RelayOutcome.Permanent, "550 5.1.1 unknown"), (results[0].Outcome, results[0].Reply));
        Assert.Equal((RelayOutcome.Temporary, "421 4.7.0 too many errors"), (results[1].Outcome, results[1].Reply));
        Assert.Equal((RelayOutcome.Temporary, "451 4.4.1 the transaction with the upstream broke off: the upstream closed the connection"), (results[2].Outcome, results[2].Reply));
    }

    [Theory]
    [InlineData("hello there")]
    [InlineData("250-first\r\n550 second with another code")]
    public async Task AReplyThatIsNoSmtpReply_DefersTheCopy_AndBreaksTheSession(string garbage)
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            await c.LineAsync();
            await c.LineAsync();
            await c.LineAsync();
            await c.SayAsync(garbage);
            await c.LineAsync(); // nothing more comes: the session is dropped, not told QUIT
        });
        var result = Assert.Single(await RelayAsync(upstream, ["frank@elsewhere.test"]));

        Assert.Equal(RelayOutcome.Temporary, result.Outcome);
        Assert.StartsWith("451 4.4.1", result.Reply);
        Assert.DoesNotContain("QUIT", upstream.Received);
    }

    [Fact]
    public async Task DataAcceptedWithNobodyToDeliverTo_GetsALoneDot_AndNotAByteOfTheCopy()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 3; i++) await c.LineAsync();
            await c.SayAsync("250 ok\n550 5.1.1 unknown\n354 go ahead anyway");
            Assert.Equal("", await c.DataAsync());
            await c.SayAsync("554 5.5.1 no valid recipients");
            await QuitAsync(c);
        });

        var result = Assert.Single(await RelayAsync(upstream, ["nobody@elsewhere.test"]));

        Assert.Equal((RelayOutcome.Permanent, "550 5.1.1 unknown"), (result.Outcome, result.Reply));
        Assert.DoesNotContain("Subject: scripted", upstream.Received);
    }

    [Fact]
    public async Task MailRefused_UnderPipelining_EveryRecipientGetsMailsAnswer_NotTheFollowUp503s()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 4; i++) await c.LineAsync();
            await c.SayAsync("553 5.7.1 sender refused\n503 5.5.1 need MAIL\n503 5.5.1 need MAIL\n503 5.5.1 need RCPT");
            await QuitAsync(c);
        });

        var results = await RelayAsync(upstream, ["frank@elsewhere.test", "grace@elsewhere.test"]);

        Assert.All(results, r => Assert.Equal((RelayOutcome.Permanent, "553 5.7.1 sender refused"), (r.Outcome, r.Reply)));
        Assert.DoesNotContain("Subject: scripted", upstream.Received);
    }

    [Fact]
    public async Task DataAnsweredPositivelyInsteadOf354_DefersTheCopy_NeverCountsAsDelivered()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var i = 0; i < 3; i++) await c.LineAsync();
            await c.SayAsync("250 ok\n250 ok\n250 2.0.0 queued, though nothing came");
            await c.LineAsync(); // the end: no QUIT to a broken upstream
        });

        var result = Assert.Single(await RelayAsync(upstream, ["frank@elsewhere.test"]));

        Assert.Equal(RelayOutcome.Temporary, result.Outcome);
        Assert.Contains("instead of 354", result.Reply);
        Assert.DoesNotContain("QUIT", upstream.Received);
    }

    [Theory]
    [InlineData(false, 1)]
    [InlineData(true, 2)]
    public async Task TheNextCopyReusesTheSession_UnlessTheUpstreamSentAReplyNobodyAskedFor(bool unaskedReply, int connections)
    {
        async Task TransactionAsync(ScriptedUpstream.Connection c, string extra)
        {
            for (var i = 0; i < 3; i++) await c.LineAsync();
            await AcceptAsync(c, extra);
        }
        var first = async (ScriptedUpstream.Connection c) =>
        {
            await GreetAsync(c, "PIPELINING");
            await TransactionAsync(c, unaskedReply ? "\n250 a reply nobody asked for" : "");
            if (unaskedReply)
            {
                await c.LineAsync(); // dropped, without QUIT: its replies are out of step
                return;
            }
            await TransactionAsync(c, "");
            await QuitAsync(c);
        };
        var second = async (ScriptedUpstream.Connection c) =>
        {
            await GreetAsync(c, "PIPELINING");
            await TransactionAsync(c, "");
            await QuitAsync(c);
        };
        await using var upstream = unaskedReply ? new ScriptedUpstream(first, second) : new ScriptedUpstream(first);

        // A clock that stands still: no NOOP check between the copies, however slow the machine.
        using (var relay = RelayTo(upstream.Port, maxMessagesPerConnection: 10, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow)))
        {
            foreach (var recipient in new[] { "frank@elsewhere.test", "grace@elsewhere.test" })
                Assert.Equal(RelayOutcome.Accepted, Assert.Single(await relay.SendAsync("copy", "dave@other.test", [recipient], Content(Message), null, CancellationToken.None)).Outcome);
        }
        await upstream.Finished(Wait);

        Assert.Equal(connections, upstream.Connections);
    }

    [Fact]
    public async Task ASessionIdleForSeconds_IsCheckedWithNoop_BeforeTheNextCopy()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            for (var copy = 0; copy < 2; copy++)
            {
                if (copy == 1)
                {
                    Assert.Equal("NOOP", await c.LineAsync());
                    await c.SayAsync("250 2.0.0 ok");
                }
                for (var i = 0; i < 3; i++) await c.LineAsync();
                await AcceptAsync(c);
            }
            await QuitAsync(c);
        });

        using (var relay = RelayTo(upstream.Port, maxMessagesPerConnection: 10, clock))
        {
            await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
            clock.Advance(TimeSpan.FromSeconds(4));
            Assert.Equal(RelayOutcome.Accepted, Assert.Single(await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None)).Outcome);
        }
        await upstream.Finished(Wait);

        Assert.Equal(1, upstream.Connections);
    }
}
