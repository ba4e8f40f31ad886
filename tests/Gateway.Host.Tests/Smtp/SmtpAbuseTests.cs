using System.Text.Json;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Smtp;

/// <summary>
/// Protocol abuse, byte for byte over a raw socket: over-long lines, unknown commands and BDAT,
/// too many errors, too many connections, silent and trickling clients, and plaintext pipelined
/// after STARTTLS. Each gets a clear reply and a bounded cost.
/// </summary>
public sealed class SmtpAbuseTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private IReadOnlyList<SpooledMessages.Message> Queued() => SpooledMessages.All(_world.SpoolPath);

    [Fact]
    public async Task CommandLineOver512Octets_Gets500_552_AndTheSessionGoesOn()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        Assert.Equal("500 5.5.2 Error: line too long", await client.CommandAsync("VRFY <" + new string('a', 600) + "@example.test>"));
        // MAIL and RCPT may be longer (DSN parameters): 2048 octets, as Postfix.
        Assert.Equal("500 5.5.2 Error: line too long", await client.CommandAsync("MAIL FROM:<" + new string('a', 2100) + "@example.test>"));
        // A line without any end is dropped as it arrives, answered once.
        await client.SendAsync("NOOP " + new string('x', 100_000));
        Assert.Equal("500 5.5.2 Error: line too long", await client.ReadReplyAsync());
        Assert.Equal("250 Ok", await client.CommandAsync("\r\nNOOP")); // ends the long line, then a real command
    }

    [Fact]
    public async Task CommandEndedByABareLf_Gets550_AtOnce_AndTheSessionGoesOn()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        // SmtpServer ends a line only at CRLF: this client used to wait the whole CommandTimeout for a reply.
        await client.SendAsync("NOOP\n");
        Assert.Equal("550 5.5.2 Error: bare <LF> received", await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
        // Pipelined: the bare-LF line is refused on its own, the CRLF line after it is a command.
        await client.SendAsync("NOOP\nNOOP\r\n");
        Assert.Equal("550 5.5.2 Error: bare <LF> received", await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("250 Ok", await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task BytesWithoutCrlf_AfterABareLfCommand_AreCutOffAtTheLineLimit_NotBuffered()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        // The LF at offset 4 let every read measure a 5-octet line while SmtpServer, looking for a
        // CRLF, kept all of it in memory for the whole CommandTimeout.
        await client.SendAsync("NOOP\n" + new string('x', 1024 * 1024));
        Assert.Equal("550 5.5.2 Error: bare <LF> received", await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("500 5.5.2 Error: line too long", await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("250 Ok", await client.CommandAsync("\r\nNOOP")); // ends the long line, then a real command
    }

    [Fact]
    public async Task CommandLineOf512Octets_IsStillACommand()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        var line = "MAIL FROM:<" + new string('a', 512 - 2 - "MAIL FROM:<@example.test>".Length) + "@example.test>";
        Assert.Equal(510, line.Length);
        Assert.StartsWith("250", await client.CommandAsync(line));
    }

    [Theory]
    [InlineData("BDAT 12 LAST")]
    [InlineData("XYZZY")]
    [InlineData("VRFY alice")]
    public async Task BdatAndUnknownCommands_Get502_WithAnEnhancedCode_AndWithoutSmtpServersRetryCounter(string command)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        Assert.Equal("502 5.5.2 Syntax error, command unrecognized", await client.CommandAsync(command));
    }

    /// <summary>
    /// SmtpServer writes its own refusals without an RFC 3463 enhanced status code, and words a
    /// command out of sequence as a 501 syntax error; each now has a code of its reply's class.
    /// </summary>
    [Theory]
    // SmtpServer's parser answers a known verb it cannot parse like an unknown one.
    [InlineData("EHLO client.test", "MAIL FROM:alice@example.test", "502 5.5.2 Syntax error, command unrecognized")]
    [InlineData("", "HELO", "502 5.5.2 Syntax error, command unrecognized")]
    [InlineData("", "MAIL FROM:<alice@example.test>", "503 5.5.1 Bad sequence of commands, expected NOOP/RSET/QUIT/PROXY/HELO/EHLO")]
    [InlineData("EHLO client.test", "RCPT TO:<dave@elsewhere.test>", "503 5.5.1 Bad sequence of commands, expected NOOP/RSET/QUIT/HELO/EHLO/MAIL")]
    [InlineData("EHLO client.test", "DATA", "503 5.5.1 Bad sequence of commands, expected NOOP/RSET/QUIT/HELO/EHLO/MAIL")]
    [InlineData("EHLO client.test", "MAIL FROM:<alice@example.test> SIZE=60000000", "552 5.3.4 Message size exceeds fixed limit")]
    public async Task SmtpServersOwnRefusal_HasAnEnhancedStatusCodeOfItsClass(string before, string command, string expected)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        if (before.Length > 0) Assert.StartsWith("250", await client.CommandAsync(before));
        var reply = await client.CommandAsync(command);
        Assert.Matches(@"^([45])\d\d \1\.\d{1,3}\.\d{1,3} ", reply);
        Assert.Equal(expected, reply);
    }

    [Fact]
    public async Task TooManyErrors_End_WithA421_AndTheConnectionIsClosed_AndAudited()
    {
        _world.Settings["Gateway:Smtp:MaxErrors"] = "3";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        Assert.StartsWith("502", await client.CommandAsync("XYZZY"));
        Assert.StartsWith("250", await client.CommandAsync("NOOP")); // successes do not reset the count
        Assert.StartsWith("502", await client.CommandAsync("XYZZY"));
        Assert.Equal("502 5.5.2 Syntax error, command unrecognized\r\n421 4.7.0 gateway.localdomain Error: too many errors", await client.CommandAsync("XYZZY") + "\r\n" + await client.ReadReplyAsync());
        Assert.Null(await client.ReadReplyAsync());
        var closed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed"));
        Assert.Equal("127.0.0.1", closed.GetProperty("client").GetString());
        Assert.Equal("421 4.7.0 gateway.localdomain Error: too many errors", closed.GetProperty("reply").GetString());
        Assert.Contains("Gateway:Smtp:MaxErrors", closed.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task TooManyErrors_AfterAMessageWasAccepted_AreAuditedWithoutThatMessagesEnvelope()
    {
        _world.Settings["Gateway:Smtp:MaxErrors"] = "2";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        Assert.StartsWith("250", await client.CommandAsync("Subject: accepted\r\n\r\nbody\r\n."));
        Assert.StartsWith("502", await client.CommandAsync("XYZZY"));
        Assert.StartsWith("502", await client.CommandAsync("XYZZY"));
        Assert.StartsWith("421", await client.ReadReplyAsync());
        // The accepted message's transaction had ended.
        AssertNamesNoTransaction(await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed")));
    }

    [Fact]
    public async Task TooManyErrors_ReachedByTheRefusalOfTheData_DoNotNameThatAnsweredMessageAgain()
    {
        _world.Settings["Gateway:Smtp:MaxErrors"] = "1";
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = "20000";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync(string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 21)) + ".\r\n"); // just over: the store answers 552
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        Assert.StartsWith("421 4.7.0", await client.ReadReplyAsync());
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused")); // the store's line for that message
        AssertNamesNoTransaction(await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed")));
    }

    private static void AssertNamesNoTransaction(JsonElement closed)
    {
        Assert.False(closed.TryGetProperty("sender", out var sender) && sender.ValueKind != JsonValueKind.Null, closed.GetRawText());
        Assert.False(closed.TryGetProperty("recipients", out var recipients) && recipients.ValueKind != JsonValueKind.Null, closed.GetRawText());
    }

    [Fact]
    public async Task SessionOverItsTimeLimit_Gets421_AndIsAuditedWithItsOpenTransaction()
    {
        _world.Settings["Gateway:Smtp:SessionTimeout"] = "00:00:02";
        _world.Settings["Gateway:Smtp:MaxRecipients"] = "1";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        Assert.StartsWith("220", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<alice@example.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<dave@elsewhere.test>"));
        Assert.StartsWith("452", await client.CommandAsync("RCPT TO:<erin@elsewhere.test>")); // refused: not part of the transaction
        Assert.Equal("421 4.4.2 gateway.localdomain Error: session time limit exceeded", await client.ReadReplyAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(await client.ReadReplyAsync());
        var closed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed"));
        Assert.Contains("Gateway:Smtp:SessionTimeout", closed.GetProperty("reason").GetString());
        Assert.Equal("alice@example.test", closed.GetProperty("sender").GetString());
        Assert.Equal(["dave@elsewhere.test"], closed.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
    }

    /// <summary>Any host that reaches the port can be refused over and over: one line a minute, not one per connection (770 KB of audit a second at 3,000 refusals a second).</summary>
    [Fact]
    public async Task RepeatedRefusals_AreAuditedOnceAMinute_NotOncePerConnection()
    {
        _world.Settings["Gateway:Smtp:MaxConnectionsPerClient"] = "1";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var held = await RawSmtpClient.ConnectAsync(gateway.Port);
        Assert.StartsWith("220", await held.ReadReplyAsync());
        for (var i = 0; i < 20; i++)
        {
            await using var refused = await RawSmtpClient.ConnectAsync(gateway.Port);
            Assert.StartsWith("421 4.7.0", await refused.ReadReplyAsync());
        }
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "connection-refused"));
        await Task.Delay(500); // lines still on their way would show up now

        Assert.Single(gateway.AuditEvents(), e => RunningGateway.Is(e, "connection-refused"));
    }

    /// <summary>Per client address (Postfix's smtpd_client_connection_count_limit) and in all (each connection holds a file descriptor).</summary>
    [Theory]
    [InlineData("Gateway:Smtp:MaxConnectionsPerClient", "421 4.7.0 Error: too many connections from your address")]
    [InlineData("Gateway:Smtp:MaxConnections", "421 4.3.2 Error: too many connections, try again later")]
    public async Task TooManyConnections_TheNextGets421_BeforeAnyGreeting_IsAudited_AndAClosedOneFreesItsSlot(string setting, string reply)
    {
        _world.Settings[setting] = "2";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var first = await RawSmtpClient.ConnectAsync(gateway.Port);
        await using var second = await RawSmtpClient.ConnectAsync(gateway.Port);
        Assert.StartsWith("220", await first.ReadReplyAsync());
        Assert.StartsWith("220", await second.ReadReplyAsync());
        await using (var third = await RawSmtpClient.ConnectAsync(gateway.Port))
        {
            Assert.Equal(reply, await third.ReadReplyAsync());
            Assert.Null(await third.ReadReplyAsync());
        }
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "connection-refused"));
        Assert.Equal("127.0.0.1", refused.GetProperty("client").GetString());
        Assert.Contains($"({setting})", refused.GetProperty("reason").GetString());

        // A closed connection frees its slot.
        Assert.StartsWith("221", await first.CommandAsync("QUIT"));
        Assert.Null(await first.ReadReplyAsync());
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while (true)
        {
            await using var again = await RawSmtpClient.ConnectAsync(gateway.Port);
            var greeting = await again.ReadReplyAsync();
            if (greeting!.StartsWith("220", StringComparison.Ordinal)) break;
            Assert.True(DateTime.UtcNow < deadline, "the slot of a closed connection was never freed");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task SilentClient_IsDisconnectedWith421_AfterTheCommandTimeout()
    {
        _world.Settings["Gateway:Smtp:CommandTimeout"] = "00:00:01";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        var started = DateTime.UtcNow;
        Assert.Equal("421 4.4.2 gateway.localdomain Error: timeout exceeded", await client.ReadReplyAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(await client.ReadReplyAsync());
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(8));
        var closed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed"));
        Assert.Equal("no command within Gateway:Smtp:CommandTimeout", closed.GetProperty("reason").GetString()); // no transaction was open
    }

    /// <summary>
    /// SmtpServer runs the handshake with the session's token alone: a client silent after the 220
    /// held its connection for Smtp:SessionTimeout (30 minutes), not Smtp:CommandTimeout.
    /// </summary>
    [Fact]
    public async Task ClientSilentAfterStartTls_IsDisconnectedWith421_AfterTheCommandTimeout_AndAudited()
    {
        _world.Settings["Gateway:Smtp:CommandTimeout"] = "00:00:01";
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = TestServerCertificate.Write(_world.Root);
        _world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = TestServerCertificate.Password;
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        Assert.StartsWith("220", await client.CommandAsync("STARTTLS"));
        var started = DateTime.UtcNow;
        Assert.Equal("421 4.4.2 gateway.localdomain Error: timeout exceeded", await client.ReadReplyAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(await client.ReadReplyAsync());
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(0.5), TimeSpan.FromSeconds(8));
        var closed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed"));
        Assert.Equal("no TLS handshake within Gateway:Smtp:CommandTimeout", closed.GetProperty("reason").GetString());
    }

    [Fact]
    public async Task SlowlorisInData_IsCutOffWith421_AtTheDataDeadline_AndNothingIsQueued()
    {
        _world.Settings["Gateway:Smtp:DataTimeout"] = "00:00:02";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        var started = DateTime.UtcNow;
        using var stop = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        var trickle = Task.Run(async () =>
        {
            try
            {
                while (!stop.IsCancellationRequested)
                {
                    await client.SendAsync("x");
                    await Task.Delay(200, stop.Token);
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
                // The server closed the connection: the point of the test.
            }
        });
        var reply = await client.ReadReplyAsync(TimeSpan.FromSeconds(12));
        Assert.Equal("421 4.4.2 gateway.localdomain Error: timeout exceeded while receiving data", reply);
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(10));
        await stop.CancelAsync();
        await trickle;
        Assert.Empty(Queued());
        // No store saw it; the audit says whose message was cut off.
        var closed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed"));
        Assert.Equal("the data did not end within Gateway:Smtp:DataTimeout; nothing of the open transaction was queued", closed.GetProperty("reason").GetString());
        Assert.Equal("alice@example.test", closed.GetProperty("sender").GetString());
        Assert.Equal(["dave@elsewhere.test"], closed.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task CommandsPipelinedAfterStartTls_AreDiscarded()
    {
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = TestServerCertificate.Write(_world.Root);
        _world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = TestServerCertificate.Password;
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        // The injection of CVE-2011-0411: plaintext commands in the same packet as STARTTLS.
        await client.SendAsync("STARTTLS\r\nMAIL FROM:<mallory@example.test>\r\nRCPT TO:<victim@elsewhere.test>\r\n");
        Assert.StartsWith("220", await client.ReadReplyAsync());
        await client.UpgradeToTlsAsync();
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        // Had the injected MAIL been executed, RCPT would be accepted; without a MAIL it is out of sequence.
        Assert.Matches("^50[13] ", await client.CommandAsync("RCPT TO:<victim@elsewhere.test>"));
        Assert.Empty(Queued());
    }
}
