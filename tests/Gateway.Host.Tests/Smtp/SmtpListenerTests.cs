using System.Security.Authentication;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Tests.Fixtures;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Gateway.Tests.Smtp;

/// <summary>What a client sees of the listener: greeting, access control, limits, durability answers, TLS.</summary>
public sealed class SmtpListenerTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task Greeting_NamesTheServer_WithoutAVersionNumber()
    {
        _world.Settings["Gateway:Smtp:ServerName"] = "gw.example.test";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        Assert.Equal("220 gw.example.test ESMTP", await client.ReadReplyAsync());
    }

    [Fact]
    public async Task EhloAndHelo_AnswerWithTheServerName_AsAMailServerDoes()
    {
        _world.Settings["Gateway:Smtp:ServerName"] = "gw.example.test";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        var ehlo = await client.CommandAsync("EHLO client.example.test");
        Assert.Equal("250-gw.example.test", ehlo!.Split('\n')[0].TrimEnd());
        Assert.Contains("250-PIPELINING", ehlo);
        Assert.Contains("250 DSN", ehlo);
        Assert.Equal("250 gw.example.test", await client.CommandAsync("HELO client.example.test"));
    }

    /// <summary>The outbox's envelope files (each copy's envelope as relayed), once <paramref name="enough"/> holds or 30 s passed.</summary>
    private async Task<List<string>> OutboxEnvelopesAsync(Func<List<string>, bool> enough)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (true)
        {
            var texts = Directory.Exists(_world.OutboxPath) ? Directory.GetFiles(_world.OutboxPath, "*.envelope.json").Select(File.ReadAllText).ToList() : [];
            if (enough(texts) || DateTime.UtcNow >= deadline) return texts;
            await Task.Delay(50);
        }
    }

    [Fact]
    public async Task RcptDsnParameters_AreKeptPerRecipient_AndBadOnesRefusedWithoutEndingTheTransaction()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example.test");
        Assert.Equal("501 5.5.4 Error: Bad RET parameter syntax", await client.CommandAsync("MAIL FROM:<dave@other.test> RET=BODY"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<dave@other.test> ENVID=tx-1"));
        Assert.Equal("501 5.5.4 Error: Bad NOTIFY parameter syntax", await client.CommandAsync("RCPT TO:<frank@elsewhere.test> NOTIFY=ALWAYS"));
        Assert.Equal("555 5.5.4 Unsupported option: RRVS", await client.CommandAsync("RCPT TO:<frank@elsewhere.test> RRVS=2030-01-01T00:00:00Z"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<frank@elsewhere.test> NOTIFY=NEVER ORCPT=rfc822;frank+2Bsales@elsewhere.test"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<grace@elsewhere.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<heidi@elsewhere.test> notify=success,delay"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        Assert.StartsWith("250", await client.CommandAsync("Subject: dsn\r\n\r\nbody\r\n."));

        // The outbox writes each copy's envelope with what the client asked, per recipient, in order.
        // The outbox does not offer DSN: heidi's NOTIFY=SUCCESS gets a "relayed" report to dave, written there too.
        var texts = await OutboxEnvelopesAsync(all => all.Count >= 2);
        Assert.Single(texts, t => t.Contains("\"mailFrom\": \"\"") && t.Contains("dave@other.test"));
        using var envelope = System.Text.Json.JsonDocument.Parse(Assert.Single(texts, t => t.Contains("frank@elsewhere.test")));
        var root = envelope.RootElement;
        Assert.Equal(["frank@elsewhere.test", "grace@elsewhere.test", "heidi@elsewhere.test"], root.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
        Assert.Equal("tx-1", root.GetProperty("envelopeId").GetString());
        var dsn = root.GetProperty("recipientDsn").EnumerateArray().ToList();
        Assert.Equal("never", dsn[0].GetProperty("notify").GetString());
        Assert.Equal("rfc822;frank+2Bsales@elsewhere.test", dsn[0].GetProperty("originalRecipient").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, dsn[1].ValueKind);
        Assert.Equal("success, delay", dsn[2].GetProperty("notify").GetString());
    }

    [Fact]
    public async Task PipelinedRcpts_EachKeepItsOwnDsnParameters_AndAnotherCommandClearsThem()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.example.test");
        var orcpt = "rfc822;" + new string('f', 450) + "@elsewhere.test"; // a line over 512 octets: DSN lengthens RCPT
        // One write, as a pipelining client sends it; RCPT<TAB>TO is RCPT too (SmtpServer takes it).
        await client.SendAsync($"MAIL FROM:<dave@other.test>\r\nRCPT TO:<frank@elsewhere.test> NOTIFY=SUCCESS ORCPT={orcpt}\r\n" +
            "RCPT\tTO:<grace@elsewhere.test>\r\nNOOP\r\nRCPT TO:<heidi@elsewhere.test> NOTIFY=NEVER\r\nRCPT TO:<ivan@elsewhere.test>\r\nDATA\r\n");
        for (var i = 0; i < 6; i++) Assert.StartsWith("250", await client.ReadReplyAsync());
        Assert.StartsWith("354", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("Subject: pipelined\r\n\r\nbody\r\n."));

        var texts = await OutboxEnvelopesAsync(all => all.Any(t => t.Contains("grace@elsewhere.test")));
        using var envelope = System.Text.Json.JsonDocument.Parse(texts.First(t => t.Contains("grace@elsewhere.test")));
        var dsn = envelope.RootElement.GetProperty("recipientDsn").EnumerateArray().ToList();
        Assert.Equal("success", dsn[0].GetProperty("notify").GetString());
        Assert.Equal(orcpt, dsn[0].GetProperty("originalRecipient").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, dsn[1].ValueKind); // not frank's again
        Assert.Equal("never", dsn[2].GetProperty("notify").GetString());
        Assert.Equal(System.Text.Json.JsonValueKind.Null, dsn[3].ValueKind);
    }

    [Fact]
    public async Task InternationalizedAddresses_KeepTheirUtf8Domains_AsTheClientWroteThem()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        Assert.Contains("SMTPUTF8", await client.CommandAsync("EHLO client.example.test"));
        // SMTPUTF8 (RFC 6531): UTF-8 in both parts. SmtpServer reads a domain as ASCII, which made "bücher" "b??cher".
        await client.SendAsync(System.Text.Encoding.UTF8.GetBytes("MAIL FROM:<dave@other.test> SMTPUTF8\r\nRCPT TO:<jörg@bücher.example>\r\nRCPT TO:<frank@xn--bcher-kva.example>\r\nDATA\r\n"));
        for (var i = 0; i < 3; i++) Assert.StartsWith("250", await client.ReadReplyAsync());
        Assert.StartsWith("354", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("Subject: eai\r\n\r\nbody\r\n."));

        var texts = await OutboxEnvelopesAsync(all => all.Count >= 1);
        using var envelope = System.Text.Json.JsonDocument.Parse(Assert.Single(texts));
        Assert.Equal(["jörg@bücher.example", "frank@xn--bcher-kva.example"], envelope.RootElement.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task ClientOutsideAllowedNetworks_IsRefusedWith554_571_AndAudited()
    {
        _world.Settings["Gateway:Smtp:AllowedNetworks:0"] = "10.0.0.0/8"; // loopback, where the test connects from, is not in it
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        var reply = await client.ReadReplyAsync();
        Assert.StartsWith("554 5.7.1 ", reply);
        Assert.Null(await client.ReadReplyAsync()); // and the connection is closed
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "connection-refused"));
        Assert.Equal("127.0.0.1", refused.GetProperty("client").GetString());
        Assert.Empty(Directory.EnumerateFiles(Path.Combine(_world.SpoolPath, "incoming")));
    }

    [Theory]
    [InlineData(21)] // just over the limit: all of it, final dot included, arrives in one read
    [InlineData(40)] // twice the limit
    public async Task MessageOverSizeLimit_IsRefusedWith552_NothingIsQueued_AndTheSessionGoesOn(int lines)
    {
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = "20000";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        // One write: the whole message, then the reply is read, as an MTA that ignores SIZE does.
        await client.SendAsync(XLines(lines) + ".\r\n");
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("NOOP"));
        Assert.Empty(SpooledMessages.All(_world.SpoolPath));
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.Equal(lines * 1000, refused.GetProperty("size").GetInt64());
    }

    [Fact]
    public async Task MessageFarOverSizeLimit_IsDroppedAsItArrives_AndRefusedWith552AfterItsFinalDot()
    {
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = "20000";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync(XLines(2000) + ".\r\n");
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        Assert.Null(await client.ReadReplyAsync()); // and the connection is closed
        Assert.Empty(SpooledMessages.All(_world.SpoolPath));
        // The store never saw it; the audit still says what was refused, and how much arrived.
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.Equal(2000 * 1000, refused.GetProperty("size").GetInt64()); // as received, without the final ".CRLF"
        Assert.StartsWith("552 5.3.4", refused.GetProperty("reply").GetString());
        // Who sent it, and to whom, though SmtpServer keeps its transaction to itself.
        Assert.Equal("alice@example.test", refused.GetProperty("sender").GetString());
        Assert.Equal(["dave@elsewhere.test"], refused.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "session-closed")); // one line, not two
    }

    [Fact]
    public async Task MessageFarOverSizeLimit_WhoseFinalDotIsSplitAcrossReads_StillGetsIts552()
    {
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = "20000";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync(XLines(100) + "last line\r");
        await Task.Delay(300); // the gateway drops what it has; the CRLF.CRLF began in it
        await client.SendAsync("\n.\r\n");
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        Assert.Empty(SpooledMessages.All(_world.SpoolPath));
    }

    [Fact]
    public async Task MessageOfExactlyTheSizeLimit_IsAccepted_AndOneByteMoreIsRefused()
    {
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = "20000";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        // 17 + 199 * 100 + 83 = 20,000 bytes, with the CRLF before the final dot (RFC 1870 §4).
        var message = "Subject: size\r\n\r\n" + XLines(199, length: 100) + new string('y', 81) + "\r\n";
        Assert.Equal(20000, message.Length);
        await client.SendAsync(message + ".\r\n");
        Assert.StartsWith("250", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<alice@example.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<dave@elsewhere.test>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        await client.SendAsync("z" + message + ".\r\n");
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
    }

    [Fact]
    public async Task MessageOfTheSizeLimit_WithEveryLineDotStuffed_IsAccepted()
    {
        // The worst case for the wire length: lines of a single dot, each sent as "..".
        const int lines = 65_600;
        var message = "Subject: dots\r\n\r\n" + string.Concat(Enumerable.Repeat(".\r\n", lines));
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = message.Length.ToString();
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync("Subject: dots\r\n\r\n" + string.Concat(Enumerable.Repeat("..\r\n", lines)) + ".\r\n");
        Assert.StartsWith("250", await client.ReadReplyAsync(TimeSpan.FromSeconds(30)));
    }

    [Fact]
    public async Task AClientOutsideTheNetworks_StillGets554_WhenTheAuditCannotBeWritten()
    {
        _world.Settings["Gateway:Audit:Path"] = "/dev/full"; // every write fails with ENOSPC
        _world.Settings["Gateway:Smtp:AllowedNetworks:0"] = "10.0.0.0/8";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        Assert.StartsWith("554 5.7.1 ", await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task DeclaredSizeOverLimit_IsRefusedAtMailFrom()
    {
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = "20000";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        var ehlo = await client.CommandAsync("EHLO client.test");
        Assert.Contains("SIZE 20000", ehlo);
        // SmtpServer's own "552 size limit exceeded", in the words DATA over the limit gets.
        Assert.Equal("552 5.3.4 Message size exceeds fixed limit", await client.CommandAsync("MAIL FROM:<alice@example.test> SIZE=50000"));
    }

    /// <summary>
    /// SmtpServer reads SIZE as an int and takes what it cannot read for 0: a SIZE past 2^31 and
    /// one that is no number at all got 250, and the client sent its data for nothing.
    /// </summary>
    [Theory]
    [InlineData("SIZE=2147483648", "552 5.3.4 Message size exceeds fixed limit")]
    [InlineData("SIZE=99999999999999999999", "552 5.3.4 Message size exceeds fixed limit")] // RFC 1870's 20 digits, past 2^64
    [InlineData("SIZE=12abc", "501 5.5.4 Error: Bad SIZE parameter syntax")]
    [InlineData("SIZE=-1", "501 5.5.4 Error: Bad SIZE parameter syntax")]
    [InlineData("SIZE=+100", "501 5.5.4 Error: Bad SIZE parameter syntax")]
    [InlineData("SIZE", "501 5.5.4 Error: Bad SIZE parameter syntax")]
    public async Task DeclaredSizeSmtpServerCannotReadAsAnInt_IsRefusedAtMailFrom(string size, string expected)
    {
        _world.Settings["Gateway:Smtp:MaxMessageSize"] = "20000";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        Assert.Equal(expected, await client.CommandAsync($"MAIL FROM:<alice@example.test> {size}"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<alice@example.test> SIZE=19000"));
    }

    /// <summary>SmtpServer's parser throws on a MAIL parameter given twice: the session ended without a reply.</summary>
    [Theory]
    [InlineData("SIZE=100 SIZE=99999", "501 5.5.4 Error: duplicate SIZE parameter")]
    [InlineData("RET=FULL ret=HDRS", "501 5.5.4 Error: duplicate RET parameter")]
    [InlineData("BODY=8BITMIME BODY=7BIT", "501 5.5.4 Error: duplicate BODY parameter")]
    [InlineData("SIZE=100\tSIZE=99999", "501 5.5.4 Error: duplicate SIZE parameter")]
    [InlineData("SIZE=100\vSIZE=99999", "501 5.5.4 Error: duplicate SIZE parameter")] // SmtpServer's tokenizer takes VT for a space too
    public async Task MailParameterGivenTwice_Gets501_AndTheSessionGoesOn(string parameters, string expected)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        Assert.Equal(expected, await client.CommandAsync($"MAIL FROM:<alice@example.test> {parameters}"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<alice@example.test> SIZE=100"));
    }

    [Fact]
    public async Task RecipientsBeyondTheLimit_GetA452_SoTheClientSendsThemLater()
    {
        _world.Settings["Gateway:Smtp:MaxRecipients"] = "2";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        await client.CommandAsync("MAIL FROM:<alice@example.test>");
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<a@elsewhere.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<b@elsewhere.test>"));
        Assert.StartsWith("452 4.5.3", await client.CommandAsync("RCPT TO:<c@elsewhere.test>"));
    }

    [Fact]
    public async Task PipelinedRecipientsFarBeyondTheLimit_Get452_WithoutEndingTheSession_AndTheMessageIsAccepted()
    {
        // Default MaxErrors (10): more 452s than that used to end the transaction with a 421, and the
        // client deferred the whole message again on every retry.
        _world.Settings["Gateway:Smtp:MaxRecipients"] = "3";
        _world.RelayTo(Gateway.Testing.FreePort.Next()); // stays queued, to be read back
        _world.Settings["Gateway:Spool:FirstRetry"] = "01:00:00";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        var recipients = Enumerable.Range(1, 3 + 15).Select(i => $"RCPT TO:<r{i}@elsewhere.test>\r\n");
        await client.SendAsync("MAIL FROM:<alice@example.test>\r\n" + string.Concat(recipients) + "DATA\r\n");
        Assert.StartsWith("250", await client.ReadReplyAsync());
        for (var i = 0; i < 3; i++) Assert.StartsWith("250", await client.ReadReplyAsync());
        for (var i = 0; i < 15; i++) Assert.Equal("452 4.5.3 Too many recipients", await client.ReadReplyAsync());
        Assert.StartsWith("354", await client.ReadReplyAsync());
        var reply = await client.CommandAsync("Subject: first three\r\n\r\nbody\r\n.");
        var id = Assert.Single(System.Text.RegularExpressions.Regex.Match(reply!, "^250 2.0.0 queued as ([0-9A-Z]{22})$").Groups.Values.Skip(1)).Value;
        Assert.Equal(["r1@elsewhere.test", "r2@elsewhere.test", "r3@elsewhere.test"],
            SpooledMessages.Find(_world.SpoolPath, id).Envelope.GetProperty("recipients").EnumerateArray().Select(r => r.GetProperty("address").GetString()));
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task AcceptedMessage_IsOnDiskWithItsEnvelope_BeforeThe250(bool journal)
    {
        // Relay to a closed port, so the entry stays queued and can be inspected after the 250.
        _world.RelayTo(Gateway.Testing.FreePort.Next());
        _world.Settings["Gateway:Spool:FirstRetry"] = "01:00:00";
        _world.Settings["Gateway:Spool:Journal"] = journal ? "true" : "false";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        await client.CommandAsync("MAIL FROM:<alice@example.test>");
        await client.CommandAsync("RCPT TO:<dave@elsewhere.test>");
        await client.CommandAsync("RCPT TO:<bob@partner.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: durable\r\nFrom: alice@example.test\r\n\r\nbody\r\n..\r\nstill body\r\n.\r\n");
        var reply = await client.ReadReplyAsync();
        var id = Assert.Single(System.Text.RegularExpressions.Regex.Match(reply!, "^250 2.0.0 queued as ([0-9A-Z]{22})$").Groups.Values.Skip(1)).Value;

        // Read at once: in the journal (where the worker leaves the record when it moves the entry
        // to incoming/) or in incoming/ (Spool:Journal off).
        var spooled = SpooledMessages.Find(_world.SpoolPath, id);
        Assert.Equal(journal, Directory.Exists(Path.Combine(_world.SpoolPath, "journal")) && Directory.EnumerateFiles(Path.Combine(_world.SpoolPath, "journal")).Any());
        // Below our Received line and loop marker (SmtpSmugglingTests checks those), the client's bytes, dot-unstuffed.
        Assert.EndsWith("\r\nSubject: durable\r\nFrom: alice@example.test\r\n\r\nbody\r\n.\r\nstill body\r\n", spooled.Text);
        var envelope = spooled.Envelope;
        Assert.Equal("alice@example.test", envelope.GetProperty("mailFrom").GetString());
        Assert.Equal(["dave@elsewhere.test", "bob@partner.test"], envelope.GetProperty("recipients").EnumerateArray().Select(r => r.GetProperty("address").GetString()));
        Assert.Equal("127.0.0.1", envelope.GetProperty("client").GetString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SpoolThatCannotBeWritten_Answers451_NeverA5xx(bool journal)
    {
        _world.Settings["Gateway:Spool:Journal"] = journal ? "true" : "false";
        await using var gateway = await RunningGateway.StartAsync(_world);
        // Root ignores permissions, so break the spool by replacing its folders with files: the
        // journal's, and incoming/ where a message goes when the journal cannot be used.
        foreach (var folder in new[] { "incoming", "journal" })
        {
            var path = Path.Combine(_world.SpoolPath, folder);
            if (Directory.Exists(path)) Directory.Delete(path, recursive: true);
            await File.WriteAllTextAsync(path, "not a folder");
        }
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", gateway.Port, SecureSocketOptions.None);
        var error = await Assert.ThrowsAsync<SmtpCommandException>(() =>
            client.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "x"), new MailboxAddress("", "alice@example.test"), [new MailboxAddress("", "dave@elsewhere.test")]));
        Assert.Equal(451, (int)error.StatusCode);
        Assert.Contains("4.3.0", error.Message);
    }

    [Theory]
    [InlineData(SslProtocols.Tls12)]
    [InlineData(SslProtocols.Tls13)]
    public async Task StartTls_IsOfferedWithAServerCertificate_AndAcceptsTls12And13(SslProtocols protocol)
    {
        var pfx = Path.Combine(_world.Root, "server.p12");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=localhost, O=Gateway TEST ONLY", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            await File.WriteAllBytesAsync(pfx, certificate.Export(X509ContentType.Pkcs12, "tls"));
        }
        Gateway.Testing.OwnerOnly.Apply(pfx);
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = pfx;
        _world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = "tls";
        await using var gateway = await RunningGateway.StartAsync(_world);

        using var client = new SmtpClient { SslProtocols = protocol, ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", gateway.Port, SecureSocketOptions.StartTls);
        Assert.True(client.IsSecure);
        Assert.Equal(protocol, client.SslProtocol);
        var reply = await client.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "over tls"),
            new MailboxAddress("", "alice@example.test"), [new MailboxAddress("", "dave@elsewhere.test")]);
        Assert.StartsWith("2.0.0 queued as", reply);
        await client.DisconnectAsync(true);
    }

    /// <summary><paramref name="count"/> lines of x, each <paramref name="length"/> bytes with its CRLF.</summary>
    private static string XLines(int count, int length = 1000) => string.Concat(Enumerable.Repeat(new string('x', length - 2) + "\r\n", count));
}
