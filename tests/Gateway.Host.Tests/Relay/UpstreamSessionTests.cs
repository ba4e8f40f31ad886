using System.Text;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Relay;
using Gateway.Spool;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Relay;

/// <summary>
/// The relay's own SMTP client against scripted upstreams: what it sends, in which batches, and
/// what each recipient's result says. The script waits for whole batches before it answers, so a
/// client that waited for replies in between would stall and fail the test.
/// </summary>
public sealed class UpstreamSessionTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(15);
    private const string Message = "Subject: scripted\r\n\r\nfirst line\r\n.starts with a dot\r\n";

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
    public async Task RepliesSentAheadOfTheTlsHandshake_AreRefused_NotReadAsIfTheyCameOverTls()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "STARTTLS");
            Assert.Equal("STARTTLS", await c.LineAsync());
            await c.SayAsync("220 go ahead\n250 injected before the handshake");
        });

        var failure = await Assert.ThrowsAnyAsync<IOException>(() => UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port), Settings(RelayTlsMode.Opportunistic), CancellationToken.None));

        Assert.Contains("sent data after its reply to STARTTLS", failure.Message);
    }

    [Theory]
    [InlineData(RelayTlsMode.Opportunistic, RelayOutcome.Accepted, 2)]
    [InlineData(RelayTlsMode.Required, RelayOutcome.Temporary, 1)]
    public async Task AFailedTlsHandshake_WithOpportunisticTls_SendsInClearOnANewConnection_WithRequiredDefers(RelayTlsMode mode, RelayOutcome outcome, int connections)
    {
        var clientHelloSeen = false;
        var brokenTls = async (ScriptedUpstream.Connection c) =>
        {
            await GreetAsync(c, "STARTTLS", "PIPELINING");
            Assert.Equal("STARTTLS", await c.LineAsync());
            await c.SayAsync("220 go ahead");
            Assert.True(await c.Stream.ReadAsync(new byte[4096]) > 0); // the ClientHello
            clientHelloSeen = true;
            await c.SayAsync("this is no TLS server hello");
            c.Stream.Close();
        };
        var plain = async (ScriptedUpstream.Connection c) =>
        {
            await GreetAsync(c, "STARTTLS", "PIPELINING");
            Assert.StartsWith("MAIL FROM:", await c.LineAsync()); // no second STARTTLS on this one
            await c.LineAsync();
            await c.LineAsync();
            await AcceptAsync(c);
            await QuitAsync(c);
        };
        await using var upstream = new ScriptedUpstream(brokenTls, plain);

        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = Relay(upstream.Port, tls: mode))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);

        var result = Assert.Single(results);
        Assert.Equal(outcome, result.Outcome);
        Assert.Equal(connections, upstream.Connections);
        Assert.True(clientHelloSeen, "the handshake never started");
        if (mode == RelayTlsMode.Required) Assert.Contains("TLS with upstream", result.Reply);
        else Assert.Equal("none", result.Tls);
    }

    [Theory]
    [InlineData(RelayTlsMode.Opportunistic, RelayOutcome.Accepted)]
    [InlineData(RelayTlsMode.Required, RelayOutcome.Temporary)]
    public async Task StartTlsRefused_WithOpportunisticTls_TheSessionGoesOnInClear_WithRequiredTheCopyIsDeferred(RelayTlsMode mode, RelayOutcome outcome)
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "STARTTLS", "PIPELINING");
            Assert.Equal("STARTTLS", await c.LineAsync());
            await c.SayAsync("454 4.7.0 TLS not available due to local problem");
            if (mode == RelayTlsMode.Required)
            {
                await c.LineAsync(); // dropped or QUIT: no MAIL
                return;
            }
            Assert.StartsWith("MAIL FROM:", await c.LineAsync());
            await c.LineAsync();
            await c.LineAsync();
            await AcceptAsync(c);
            await QuitAsync(c);
        });

        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = Relay(upstream.Port, tls: mode))
            results = await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
        await upstream.Finished(Wait);

        var result = Assert.Single(results);
        Assert.Equal(outcome, result.Outcome);
        if (mode == RelayTlsMode.Required) Assert.Contains("refused STARTTLS: 454 4.7.0", result.Reply);
        Assert.DoesNotContain("MAIL", mode == RelayTlsMode.Required ? upstream.Received : "");
    }

    [Fact]
    public async Task WithoutStartTls_ThePasswordIsNotSentInClear_UnlessTlsModeNoneSaysSo()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "AUTH PLAIN LOGIN");
            await c.LineAsync(); // QUIT or the end
        });

        var failure = await Assert.ThrowsAnyAsync<IOException>(() => UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port),
            Settings(RelayTlsMode.Opportunistic) with { Username = "gateway", Password = "secret" }, CancellationToken.None));
        await upstream.Finished(Wait);

        Assert.Contains("not sent over a plain connection", failure.Message);
        Assert.DoesNotContain("AUTH", upstream.Received);
    }

    [Theory]
    [InlineData("AUTH PLAIN LOGIN", new[] { "AUTH PLAIN AGdhdGV3YXkAc2VjcmV0" })]
    [InlineData("AUTH LOGIN", new[] { "AUTH LOGIN", "Z2F0ZXdheQ==", "c2VjcmV0" })]
    public async Task Credentials_GoWithPlainOrLogin(string offered, string[] expected)
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, offered);
            for (var i = 0; i < expected.Length; i++)
            {
                Assert.Equal(expected[i], await c.LineAsync());
                await c.SayAsync(i == expected.Length - 1 ? "235 2.7.0 accepted" : "334 ");
            }
            await QuitAsync(c);
        });

        var session = await UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port),
            Settings(RelayTlsMode.None) with { Username = "gateway", Password = "secret" }, CancellationToken.None);
        await session.QuitAsync(CancellationToken.None);
        await upstream.Finished(Wait);
    }

    [Theory]
    [InlineData("honest")]
    [InlineData("wrong proof")]
    [InlineData("no proof")]
    public async Task ScramSha256_IsPreferred_AndAnUpstreamThatCannotProveItKnowsThePassword_IsRefused(string upstreamKind)
    {
        var honest = upstreamKind == "honest";
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "AUTH PLAIN LOGIN SCRAM-SHA-256");
            var first = await c.LineAsync() ?? "";
            Assert.StartsWith("AUTH SCRAM-SHA-256 ", first);
            var clientFirstBare = Encoding.UTF8.GetString(Convert.FromBase64String(first["AUTH SCRAM-SHA-256 ".Length..]))["n,,".Length..];
            var serverFirst = $"r={clientFirstBare.Split(",r=")[1]}server-part,s={Convert.ToBase64String("salt of the test"u8)},i=4096";
            await c.SayAsync("334 " + Convert.ToBase64String(Encoding.UTF8.GetBytes(serverFirst)));
            var clientFinal = Encoding.UTF8.GetString(Convert.FromBase64String(await c.LineAsync() ?? ""));
            // The server's side, written out here on its own: the stored keys of "secret".
            var salted = System.Security.Cryptography.Rfc2898DeriveBytes.Pbkdf2("secret"u8, "salt of the test"u8, 4096, System.Security.Cryptography.HashAlgorithmName.SHA256, 32);
            var clientKey = System.Security.Cryptography.HMACSHA256.HashData(salted, "Client Key"u8);
            var withoutProof = clientFinal[..clientFinal.IndexOf(",p=", StringComparison.Ordinal)];
            var authMessage = Encoding.UTF8.GetBytes($"{clientFirstBare},{serverFirst},{withoutProof}");
            var signature = System.Security.Cryptography.HMACSHA256.HashData(System.Security.Cryptography.SHA256.HashData(clientKey), authMessage);
            var proof = Convert.FromBase64String(clientFinal[(clientFinal.IndexOf(",p=", StringComparison.Ordinal) + 3)..]);
            Assert.Equal(clientKey, proof.Zip(signature, (a, b) => (byte)(a ^ b)).ToArray());
            var serverSignature = System.Security.Cryptography.HMACSHA256.HashData(System.Security.Cryptography.HMACSHA256.HashData(salted, "Server Key"u8), authMessage);
            if (upstreamKind == "no proof")
            {
                await c.SayAsync("235 2.7.0 welcome, whoever you are");
                await c.LineAsync(); // the end: no MAIL to an upstream that proved nothing
                return;
            }
            if (!honest) serverSignature[0] ^= 1;
            await c.SayAsync("334 " + Convert.ToBase64String(Encoding.UTF8.GetBytes("v=" + Convert.ToBase64String(serverSignature))));
            Assert.Equal(honest ? "" : "*", await c.LineAsync());
            await c.SayAsync(honest ? "235 2.7.0 ok" : "501 5.7.0 cancelled");
            if (honest) await QuitAsync(c);
        });

        var open = UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port), Settings(RelayTlsMode.None) with { Username = "gateway", Password = "secret" }, CancellationToken.None);
        if (honest) await (await open).QuitAsync(CancellationToken.None);
        else Assert.Contains(upstreamKind == "no proof" ? "without proving it knows the password" : "could not prove it knows the password",
            (await Assert.ThrowsAnyAsync<IOException>(() => open)).Message);
        await upstream.Finished(Wait);
        Assert.DoesNotContain("secret", upstream.Received);
    }

    [Fact]
    public async Task AScramTheUpstreamOffersButCannotComplete_IsFollowedByPlain_InTheSameSession()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "AUTH SCRAM-SHA-256 PLAIN");
            Assert.StartsWith("AUTH SCRAM-SHA-256 ", await c.LineAsync());
            await c.SayAsync("535 5.7.8 no SCRAM secret stored for this user");
            Assert.Equal("AUTH PLAIN AGdhdGV3YXkAc2VjcmV0", await c.LineAsync());
            await c.SayAsync("235 2.7.0 ok");
            await QuitAsync(c);
        });

        var session = await UpstreamSession.OpenAsync(new UpstreamHost("127.0.0.1", upstream.Port), Settings(RelayTlsMode.None) with { Username = "gateway", Password = "secret" }, CancellationToken.None);
        await session.QuitAsync(CancellationToken.None);
        await upstream.Finished(Wait);
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

    [Fact]
    public async Task ACopyLargerThanTheUpstreamTakes_FailsPermanently_WithoutAWordSent()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "SIZE 20");
            Assert.Equal("QUIT", await c.LineAsync());
            await c.SayAsync("221 bye");
        });
        var result = Assert.Single(await RelayAsync(upstream, ["frank@elsewhere.test"]));

        Assert.Equal(RelayOutcome.Permanent, result.Outcome);
        Assert.StartsWith("552 5.3.4", result.Reply);
        Assert.DoesNotContain("MAIL", upstream.Received);
    }

    [Fact]
    public async Task WithoutSmtpUtf8_AUnicodeDomainGoesAsXn_AndANonAsciiLocalPartFailsPermanently()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            Assert.Equal("MAIL FROM:<dave@other.test>", await c.LineAsync());
            Assert.Equal("RCPT TO:<dora@xn--bcher-kva.example>", await c.LineAsync());
            Assert.Equal("DATA", await c.LineAsync());
            await AcceptAsync(c);
            await QuitAsync(c);
        });
        var results = await RelayAsync(upstream, ["dora@bücher.example", "jörg@example.test"]);

        Assert.Equal(RelayOutcome.Accepted, results.Single(r => r.Recipient == "dora@bücher.example").Outcome);
        var refused = results.Single(r => r.Recipient == "jörg@example.test");
        Assert.Equal(RelayOutcome.Permanent, refused.Outcome);
        Assert.StartsWith("550 5.6.7", refused.Reply);
    }

    [Fact]
    public async Task WithSmtpUtf8_AddressesGoAsGiven_AndMailSaysSmtpUtf8()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", "SMTPUTF8", "8BITMIME");
            Assert.Equal("MAIL FROM:<dave@other.test> SMTPUTF8", await c.LineAsync());
            Assert.Equal("RCPT TO:<jörg@bücher.example>", await c.LineAsync());
            Assert.Equal("DATA", await c.LineAsync());
            await AcceptAsync(c);
            await QuitAsync(c);
        });
        var result = Assert.Single(await RelayAsync(upstream, ["jörg@bücher.example"]));

        Assert.Equal(RelayOutcome.Accepted, result.Outcome);
    }

    [Fact]
    public async Task TheClientsOrcpt_IsPassedOnAsItCame_AndOursIsAddedOnlyBesideNotify()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", "DSN");
            Assert.Equal("MAIL FROM:<dave@other.test> RET=HDRS ENVID=id+2B1", await c.LineAsync());
            Assert.Equal("RCPT TO:<frank@elsewhere.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;sales+2Bde@example.test", await c.LineAsync());
            Assert.Equal("RCPT TO:<grace@elsewhere.test> NOTIFY=NEVER ORCPT=rfc822;grace@elsewhere.test", await c.LineAsync());
            Assert.Equal("RCPT TO:<heidi@elsewhere.test>", await c.LineAsync());
            Assert.Equal("DATA", await c.LineAsync());
            await c.SayAsync("250 ok\n250 ok\n250 ok\n250 ok\n354 go");
            await c.DataAsync();
            await c.SayAsync("250 queued");
            await QuitAsync(c);
        });
        var dsn = new DsnParameters("id+2B1", "HDRS", [new RecipientDsn(DsnNotify.Success | DsnNotify.Failure, "rfc822;sales+2Bde@example.test"), new RecipientDsn(DsnNotify.Never, null), null]);

        var results = await RelayAsync(upstream, ["frank@elsewhere.test", "grace@elsewhere.test", "heidi@elsewhere.test"], Message, dsn);

        Assert.All(results, r => Assert.True(r.DsnPassedOn));
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
        using (var relay = Relay(upstream.Port, maxMessagesPerConnection: 10, new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow)))
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

        using (var relay = Relay(upstream.Port, maxMessagesPerConnection: 10, clock))
        {
            await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None);
            clock.Advance(TimeSpan.FromSeconds(4));
            Assert.Equal(RelayOutcome.Accepted, Assert.Single(await relay.SendAsync("copy", "dave@other.test", ["frank@elsewhere.test"], Content(Message), null, CancellationToken.None)).Outcome);
        }
        await upstream.Finished(Wait);

        Assert.Equal(1, upstream.Connections);
    }

    [Theory]
    [InlineData(false, " ORCPT=utf-8;j\\x{F6}rg@b\\x{FC}cher.example")]
    [InlineData(true, " ORCPT=utf-8;jörg@bücher.example")]
    public void AUtf8Orcpt_GoesInItsAsciiForm_OutsideAnSmtpUtf8Transaction(bool smtpUtf8, string expected)
    {
        var command = EnvelopeCommands.Rcpt("frank@elsewhere.test", "frank@elsewhere.test", new UpstreamCapabilities { Dsn = true },
            new RecipientDsn(null, "utf-8;jörg@bücher.example"), smtpUtf8);

        Assert.Equal($"RCPT TO:<frank@elsewhere.test>{expected}\r\n", command);
    }

    /// <summary>After a one-recipient batch was read: MAIL and RCPT accepted, 354, the data read, and its 250 (with <paramref name="after"/> sent along).</summary>
    private static async Task AcceptAsync(ScriptedUpstream.Connection c, string after = "")
    {
        await c.SayAsync("250 ok\n250 ok\n354 go");
        await c.DataAsync();
        await c.SayAsync("250 queued" + after);
    }

    private static async Task GreetAsync(ScriptedUpstream.Connection c, params string[] extensions)
    {
        await c.SayAsync("220 upstream.test ESMTP");
        Assert.Equal("EHLO gateway.test", await c.LineAsync());
        await c.SayAsync(string.Join('\n', new[] { "upstream.test" }.Concat(extensions).Select((e, i) => (i == extensions.Length ? "250 " : "250-") + e)));
    }

    private static async Task QuitAsync(ScriptedUpstream.Connection c)
    {
        Assert.Equal("QUIT", await c.LineAsync());
        await c.SayAsync("221 bye");
    }

    private static MemoryStream Content(string text) => new(Encoding.UTF8.GetBytes(text));

    private static UpstreamSettings Settings(RelayTlsMode tls) => new("gateway.test", TimeSpan.FromSeconds(10), tls, (_, _, _, _) => true, null, null, Chunking: true);

    /// <summary>Relays one copy and waits for the script to end; fails when the script failed.</summary>
    private static async Task<IReadOnlyList<RecipientRelayResult>> RelayAsync(ScriptedUpstream upstream, string[] recipients, string message = Message, DsnParameters? dsn = null,
        bool pipelining = true)
    {
        IReadOnlyList<RecipientRelayResult> results;
        using (var relay = Relay(upstream.Port, pipelining: pipelining))
            results = await relay.SendAsync("copy", "dave@other.test", recipients, Content(message), dsn, CancellationToken.None);
        await upstream.Finished(Wait);
        return results;
    }

    /// <summary>By default one message per connection, so the QUIT comes when the copy is done.</summary>
    private static SmtpRelay Relay(int port, int maxMessagesPerConnection = 1, TimeProvider? time = null, RelayTlsMode tls = RelayTlsMode.None, bool pipelining = true) => new(Options.Create(new GatewayOptions
    {
        Smtp = new SmtpOptions { ServerName = "gateway.test" },
        Relay = new RelayOptions { Host = "127.0.0.1", Port = port, TlsMode = tls, Pipelining = pipelining, MaxMessagesPerConnection = maxMessagesPerConnection, Timeout = TimeSpan.FromSeconds(10) },
    }), time ?? TimeProvider.System, NullLogger<SmtpRelay>.Instance);
}
