using Gateway.Smtp;
using Gateway.Tests.Fixtures;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;

namespace Gateway.Tests.Smtp;

/// <summary>
/// Who may relay: clients of AllowedNetworks, or clients that authenticated over TLS against the
/// users file; and which sender addresses. Every refusal is audited with the client address.
/// </summary>
public sealed class SmtpAccessTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public SmtpAccessTests()
    {
        // Loopback, where the tests connect from, is not trusted: it must authenticate.
        _world.Settings["Gateway:Smtp:AllowedNetworks:0"] = "10.0.0.0/8";
        _world.Settings["Gateway:Smtp:Tls:CertificatePath"] = TestServerCertificate.Write(_world.Root);
        _world.Settings["Gateway:Smtp:Tls:CertificatePassword"] = TestServerCertificate.Password;
        var users = Path.Combine(_world.Root, "smtp-users");
        var hash = PasswordHash.Create("correct horse", PasswordHash.MinimumIterations);
        File.WriteAllText(users, $"# test users\nrelay-user:{hash}:alice@example.test,@sales.example.test\nbob@example.test:{hash}\n");
        _world.Settings["Gateway:Smtp:Auth:UsersFile"] = Gateway.Testing.OwnerOnly.Apply(users);
    }

    public void Dispose() => _world.Dispose();

    private IReadOnlyList<SpooledMessages.Message> Queued() => SpooledMessages.All(_world.SpoolPath);

    [Fact]
    public async Task OpenRelayProbe_FromAnUntrustedUnauthenticatedClient_IsRefused530_AndAudited()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        Assert.StartsWith("220", await client.ReadReplyAsync());
        var ehlo = await client.CommandAsync("EHLO probe.test");
        Assert.DoesNotContain("AUTH", ehlo); // never offered in plaintext
        Assert.Equal("530 5.7.0 Authentication required: client network is not allowed to relay", await client.CommandAsync("MAIL FROM:<spammer@elsewhere.test>"));
        Assert.DoesNotMatch("^250", await client.CommandAsync("RCPT TO:<victim@elsewhere.test>"));
        Assert.Empty(Queued());
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "relay-refused"));
        Assert.Equal("127.0.0.1", refused.GetProperty("client").GetString());
    }

    [Fact]
    public async Task AuthBeforeTls_IsRefused()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        var plain = Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes("\0relay-user\0correct horse"));
        Assert.DoesNotMatch("^235", await client.CommandAsync("AUTH PLAIN " + plain));
        Assert.StartsWith("530", await client.CommandAsync("MAIL FROM:<alice@example.test>"));
    }

    [Theory]
    [InlineData("PLAIN")]
    [InlineData("LOGIN")]
    public async Task AuthenticatedOverStartTls_MayRelay(string mechanism)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", gateway.Port, SecureSocketOptions.StartTls);
        Assert.Contains(mechanism, client.AuthenticationMechanisms);
        client.AuthenticationMechanisms.RemoveWhere(m => m != mechanism);
        await client.AuthenticateAsync("relay-user", "correct horse");
        var reply = await client.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "authenticated"),
            new MailboxAddress("", "alice@example.test"), [new MailboxAddress("", "dave@elsewhere.test")]);
        Assert.StartsWith("2.0.0 queued as", reply);
        // The worker may have relayed it already: the copy in the outbox carries the same trace line.
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        var content = await File.ReadAllTextAsync(Assert.Single(Directory.GetFiles(_world.OutboxPath, "*.eml")));
        Assert.Contains("with ESMTPSA id", content);
    }

    [Fact]
    public async Task WrongPassword_IsRefused_AndAuditedWithoutThePassword()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", gateway.Port, SecureSocketOptions.StartTls);
        await Assert.ThrowsAsync<AuthenticationException>(() => client.AuthenticateAsync("relay-user", "wrong-secret-123"));
        var failed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "auth-failed"));
        Assert.Equal("127.0.0.1", failed.GetProperty("client").GetString());
        Assert.Equal("relay-user", failed.GetProperty("user").GetString());
        Assert.DoesNotContain("wrong-secret-123", await File.ReadAllTextAsync(_world.AuditPath));
    }

    /// <summary>A raw client after STARTTLS and a second EHLO, where AUTH is offered.</summary>
    private static async Task<RawSmtpClient> ConnectOverTlsAsync(int port)
    {
        var client = await RawSmtpClient.ConnectAsync(port);
        Assert.StartsWith("220", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO client.test"));
        Assert.StartsWith("220", await client.CommandAsync("STARTTLS"));
        await client.UpgradeToTlsAsync();
        Assert.Contains("AUTH", await client.CommandAsync("EHLO client.test"));
        return client;
    }

    private static string Base64(string text) => Convert.ToBase64String(System.Text.Encoding.UTF8.GetBytes(text));

    /// <summary>SmtpServer's AUTH decodes without a catch: the session used to fault and the connection to close without a reply.</summary>
    [Theory]
    [InlineData("AUTH PLAIN abc")]          // initial response of a length base64 cannot have
    [InlineData("AUTH PLAIN !!!")]
    [InlineData("AUTH LOGIN abc")]
    [InlineData("AUTH PLAIN", "abc")]       // the response to the 334
    [InlineData("AUTH LOGIN", "abc")]
    [InlineData("AUTH LOGIN", "cmVsYXktdXNlcg==", "a=bc")] // to the second 334, for the password
    public async Task AuthResponseThatIsNotBase64_Gets501_AndTheSessionGoesOn(string command, params string[] responses)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        var reply = await client.CommandAsync(command);
        foreach (var response in responses)
        {
            Assert.StartsWith("334", reply);
            reply = await client.CommandAsync(response);
        }
        Assert.Equal($"501 5.5.2 Invalid base64 data in {(responses.Length == 0 ? "initial" : "continued")} response", reply);
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
        Assert.StartsWith("235", await client.CommandAsync("AUTH PLAIN " + Base64("\0relay-user\0correct horse")));
    }

    [Theory]
    [InlineData("AUTH PLAIN", "*")]
    [InlineData("AUTH LOGIN", "*")]
    [InlineData("AUTH LOGIN", "cmVsYXktdXNlcg==", "*")]
    public async Task AuthCancelledWithAStar_Gets501_AsRfc4954Requires_AndTheSessionGoesOn(string command, params string[] responses)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        var reply = await client.CommandAsync(command);
        foreach (var response in responses)
        {
            Assert.StartsWith("334", reply);
            reply = await client.CommandAsync(response);
        }
        Assert.Equal("501 5.7.0 Authentication aborted", reply);
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
        Assert.StartsWith("334 ", await client.CommandAsync("AUTH LOGIN"));
        Assert.StartsWith("334 ", await client.CommandAsync(Base64("relay-user")));
        Assert.StartsWith("235", await client.CommandAsync(Base64("correct horse")));
    }

    /// <summary>
    /// SmtpServer's 535 has no enhanced status code and counts down its attempts ("authentication
    /// failed, 2 attempt(s) remaining."); an AUTH out of sequence got its "501 expected ...".
    /// </summary>
    [Fact]
    public async Task AuthRefusals_HaveEnhancedStatusCodes_AndTellNoAttemptCount()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using (var plaintext = await RawSmtpClient.ConnectAsync(gateway.Port))
        {
            await plaintext.ReadReplyAsync();
            await plaintext.CommandAsync("EHLO client.test");
            Assert.Equal("503 5.5.1 Bad sequence of commands, expected NOOP/RSET/QUIT/STARTTLS/HELO/EHLO/MAIL",
                await plaintext.CommandAsync("AUTH PLAIN " + Base64("\0relay-user\0correct horse")));
        }
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        Assert.Equal("535 5.7.8 Authentication credentials invalid", await client.CommandAsync("AUTH PLAIN " + Base64("\0relay-user\0wrong")));
        Assert.StartsWith("334", await client.CommandAsync("AUTH LOGIN"));
        Assert.StartsWith("334", await client.CommandAsync(Base64("relay-user")));
        Assert.Equal("535 5.7.8 Authentication credentials invalid", await client.CommandAsync(Base64("wrong")));
        Assert.StartsWith("235", await client.CommandAsync("AUTH PLAIN " + Base64("\0relay-user\0correct horse")));
        Assert.Equal("503 5.5.1 Bad sequence of commands, expected NOOP/RSET/QUIT/HELO/EHLO/MAIL",
            await client.CommandAsync("AUTH PLAIN " + Base64("\0relay-user\0correct horse")));
    }

    /// <summary>
    /// SmtpServer refused a PLAIN message it could not split into user and password (RFC 4616: two
    /// NULs) with a 535, then again with the 535 of its failed AUTH: every later reply was one
    /// behind, so the NOOP read the second 535 and the next AUTH the NOOP's 250.
    /// </summary>
    [Theory]
    [InlineData("AUTH PLAIN " + "cmVsYXktdXNlciBjb3JyZWN0IGhvcnNl")]   // "relay-user correct horse", no NUL
    [InlineData("AUTH PLAIN " + "AHJlbGF5LXVzZXI=")]                   // "\0relay-user", one NUL
    [InlineData("AUTH PLAIN", "cmVsYXktdXNlciBjb3JyZWN0IGhvcnNl")]     // the same as the answer to the 334
    public async Task PlainResponseWithoutTwoNuls_GetsOne535_AndTheSessionStaysInStep(string command, params string[] responses)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        var reply = await client.CommandAsync(command);
        foreach (var response in responses)
        {
            Assert.StartsWith("334", reply);
            reply = await client.CommandAsync(response);
        }
        Assert.Equal("535 5.7.8 Authentication credentials invalid", reply);
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
        Assert.StartsWith("235", await client.CommandAsync("AUTH PLAIN " + Base64("\0relay-user\0correct horse")));
    }

    /// <summary>
    /// SmtpServer ends the session after its third failed AUTH with "221 bye", the reply to a QUIT,
    /// so the client took it for a normal end, and nothing was audited.
    /// </summary>
    [Fact]
    public async Task ThirdFailedAuth_EndsTheSessionWith421_AndIsAudited()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        var wrong = "AUTH PLAIN " + Base64("\0relay-user\0wrong");
        Assert.Equal("535 5.7.8 Authentication credentials invalid", await client.CommandAsync(wrong));
        Assert.Equal("535 5.7.8 Authentication credentials invalid", await client.CommandAsync(wrong));
        Assert.Equal("535 5.7.8 Authentication credentials invalid", await client.CommandAsync(wrong));
        Assert.Equal("421 4.7.0 gateway.localdomain Error: too many failed authentications", await client.ReadReplyAsync());
        Assert.Null(await client.ReadReplyAsync());
        var closed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed"));
        Assert.Equal("127.0.0.1", closed.GetProperty("client").GetString());
        Assert.Equal("421 4.7.0 gateway.localdomain Error: too many failed authentications", closed.GetProperty("reply").GetString());
        Assert.Equal("3 failed authentications on one connection", closed.GetProperty("reason").GetString());
    }

    /// <summary>
    /// The reader refused such an answer as a command line, while SmtpServer still waited for it:
    /// the client's next command was taken for the answer and every reply after it was one behind.
    /// </summary>
    [Theory]
    [InlineData("AUTH PLAIN")]
    [InlineData("AUTH LOGIN")]
    [InlineData("AUTH LOGIN", "cmVsYXktdXNlcg==")]
    public async Task AuthAnswerOverTheAuthLineLimit_Gets500_556_AndTheNextCommandIsACommand(string command, params string[] responses)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        var reply = await client.CommandAsync(command);
        foreach (var response in responses)
        {
            Assert.StartsWith("334", reply);
            reply = await client.CommandAsync(response);
        }
        Assert.StartsWith("334", reply);
        // Base64 all through, one octet over RFC 4954's 12288 with the CRLF.
        Assert.Equal("500 5.5.6 Authentication Exchange line is too long", await client.CommandAsync(new string('A', 12288 - 1)));
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
        Assert.StartsWith("235", await client.CommandAsync("AUTH PLAIN " + Base64("\0relay-user\0correct horse")));
    }

    [Theory]
    [InlineData("AUTH PLAIN", "AHJlbGF5LXVzZXIAY29ycmVjdCBob3JzZQ==")]
    [InlineData("AUTH LOGIN", "cmVsYXktdXNlcg==")]
    public async Task AuthAnswerEndedByABareLf_Gets501_AndTheNextCommandIsACommand(string command, string answer)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        Assert.StartsWith("334", await client.CommandAsync(command));
        await client.SendAsync(answer + "\n");
        Assert.Equal("501 5.5.2 Error: bare <LF> received", await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
    }

    /// <summary>
    /// RFC 4954 §4: a client whose initial response would make the AUTH line too long sends it as
    /// the answer to an empty 334 instead, so that answer may be as long as the AUTH line.
    /// </summary>
    [Fact]
    public async Task AuthAnswerLongerThanACommandLine_IsReadAsTheAnswer()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        Assert.StartsWith("334", await client.CommandAsync("AUTH LOGIN"));
        Assert.StartsWith("334", await client.CommandAsync(Base64(new string('u', 3000))));
        Assert.Equal("501 5.7.0 Authentication aborted", await client.CommandAsync("*"));
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
    }

    /// <summary>
    /// SmtpServer reads the answer to its 334 with the session's token alone: a client silent there
    /// held its connection for Smtp:SessionTimeout (30 minutes), not Smtp:CommandTimeout.
    /// </summary>
    [Theory]
    [InlineData("AUTH PLAIN")]
    [InlineData("AUTH LOGIN")]
    [InlineData("AUTH LOGIN", "cmVsYXktdXNlcg==")]
    public async Task ClientSilentAfterA334_IsDisconnectedWith421_AfterTheCommandTimeout_AndNoPasswordIsTried(string command, params string[] responses)
    {
        _world.Settings["Gateway:Smtp:CommandTimeout"] = "00:00:02";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        var reply = await client.CommandAsync(command);
        foreach (var response in responses)
        {
            Assert.StartsWith("334", reply);
            reply = await client.CommandAsync(response);
        }
        Assert.StartsWith("334", reply);
        var started = DateTime.UtcNow;
        Assert.Equal("421 4.4.2 gateway.localdomain Error: timeout exceeded", await client.ReadReplyAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(await client.ReadReplyAsync());
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        var closed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed"));
        Assert.Equal("no answer to a 334 within Gateway:Smtp:CommandTimeout", closed.GetProperty("reason").GetString());
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "auth-failed"));
    }

    [Fact]
    public async Task SenderOutsideTheCompanyDomains_IsRefused553_UnlessListed_AndTheNullSenderPasses()
    {
        _world.Settings["Gateway:Smtp:AllowedNetworks:0"] = "127.0.0.0/8";
        _world.Settings["Gateway:Smtp:SenderDomains:0"] = "example.test";
        _world.Settings["Gateway:Smtp:AllowedSenders:0"] = "newsletter@vendor.test";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        Assert.Equal("553 5.7.1 Sender address rejected: domain not allowed here", await client.CommandAsync("MAIL FROM:<ceo@evil.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RSET"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<alice@EXAMPLE.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RSET"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<newsletter@vendor.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RSET"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<>"));
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "sender-refused"));
        Assert.Equal("127.0.0.1", refused.GetProperty("client").GetString());
        Assert.Equal("ceo@evil.test", refused.GetProperty("sender").GetString());
    }

    /// <returns>Null when the message was queued, else the reply that refused it.</returns>
    private static async Task<string?> SendAuthenticatedAsync(int port, string user, string sender, string? headerFrom = null)
    {
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };
        await client.ConnectAsync("127.0.0.1", port, SecureSocketOptions.StartTls);
        await client.AuthenticateAsync(user, "correct horse");
        try
        {
            await client.SendAsync(RunningGateway.NewMessage(headerFrom ?? sender, "dave@elsewhere.test", "owned?"), new MailboxAddress("", sender), [new MailboxAddress("", "dave@elsewhere.test")]);
            return null;
        }
        catch (SmtpCommandException e)
        {
            return $"{(int)e.StatusCode} {e.Message}";
        }
    }

    [Fact]
    public async Task AuthenticatedUser_MaySendOnlyAsTheAddressesItOwns_AndAMismatchIsRefused553AndAuditedWithTheUser()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        // relay-user owns what its line lists: an address and a domain.
        Assert.Null(await SendAuthenticatedAsync(gateway.Port, "relay-user", "alice@example.test"));
        Assert.Null(await SendAuthenticatedAsync(gateway.Port, "relay-user", "Carol@Sales.Example.Test"));
        Assert.Equal("553 5.7.1 Sender address rejected: not owned by the authenticated user", await SendAuthenticatedAsync(gateway.Port, "relay-user", "ceo@example.test"));
        // bob@example.test lists nothing: it owns its login.
        Assert.Null(await SendAuthenticatedAsync(gateway.Port, "bob@example.test", "bob@example.test"));
        Assert.Equal("553 5.7.1 Sender address rejected: not owned by the authenticated user", await SendAuthenticatedAsync(gateway.Port, "bob@example.test", "alice@example.test"));

        var refused = (await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "sender-refused") && e.GetProperty("user").GetString() == "bob@example.test"));
        Assert.Equal("alice@example.test", refused.GetProperty("sender").GetString());
        Assert.Equal("553 5.7.1 Sender address rejected: not owned by the authenticated user", refused.GetProperty("reply").GetString());
        Assert.Single(gateway.AuditEvents(), e => RunningGateway.Is(e, "sender-refused") && e.GetProperty("sender").GetString() == "ceo@example.test"
                                                   && e.GetProperty("user").GetString() == "relay-user");
        Assert.Equal(3, gateway.AuditEvents().Count(e => RunningGateway.Is(e, "received")));
    }

    [Fact]
    public async Task AuthenticatedUser_MayNotPutAColleaguesAddressInFrom_EvenWithItsOwnEnvelopeSender()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        // Gateway signs with the envelope sender's key; clients show it next to the From address.
        Assert.Equal("553 5.7.1 From header address not owned by the authenticated user",
            await SendAuthenticatedAsync(gateway.Port, "relay-user", "alice@example.test", headerFrom: "ceo@example.test"));
        Assert.Null(await SendAuthenticatedAsync(gateway.Port, "relay-user", "alice@example.test", headerFrom: "carol@sales.example.test"));
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.Contains("From: ceo@example.test", refused.GetProperty("reason").GetString());
        Assert.Equal("relay-user", refused.GetProperty("user").GetString());
        Assert.DoesNotContain(Queued(), m => m.Text.Contains("From: ceo@example.test"));
    }

    [Fact]
    public async Task AuthenticatedUser_MaySendAsAnyCompanySender_WhenRequireOwnSenderIsOff()
    {
        _world.Settings["Gateway:Smtp:Auth:RequireOwnSender"] = "false";
        await using var gateway = await RunningGateway.StartAsync(_world);
        Assert.Null(await SendAuthenticatedAsync(gateway.Port, "bob@example.test", "alice@example.test"));
    }

    [Fact]
    public async Task TrustedNetworkClient_IsNotHeldToTheSendersOfItsLogin()
    {
        _world.Settings["Gateway:Smtp:AllowedNetworks:0"] = "127.0.0.0/8";
        await using var gateway = await RunningGateway.StartAsync(_world);
        // The MTA of a trusted network vouches for its users, whether or not it authenticates itself.
        Assert.Null(await SendAuthenticatedAsync(gateway.Port, "bob@example.test", "ceo@example.test"));
        Assert.Null(await SendAuthenticatedAsync(gateway.Port, "bob@example.test", "bob@example.test", headerFrom: "ceo@example.test"));
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync("ceo@example.test");
    }

    [Fact]
    public async Task EmptyLocalPart_IsNotTheNullSender_AndIsRefused553()
    {
        _world.Settings["Gateway:Smtp:AllowedNetworks:0"] = "127.0.0.0/8";
        _world.Settings["Gateway:Smtp:SenderDomains:0"] = "example.test";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        // <""@domain> passed every sender check as if it were <>, then went on as "@domain".
        Assert.Equal("553 5.1.7 Sender address rejected: the local part is empty", await client.CommandAsync("MAIL FROM:<\"\"@victim.test>"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<>"));
        Assert.Equal("553 5.1.3 Recipient address rejected: the local part is empty", await client.CommandAsync("RCPT TO:<\"\"@elsewhere.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<dave@elsewhere.test>"));
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "sender-refused"));
        Assert.StartsWith("553 5.1.7", refused.GetProperty("reply").GetString());
    }

    [Fact]
    public void PasswordHash_VerifiesOnlyTheRightPassword_AndRoundTripsThroughItsText()
    {
        var hash = PasswordHash.Create("s3cret", PasswordHash.MinimumIterations);
        Assert.True(PasswordHash.TryParse(hash.ToString(), out var parsed, out _));
        Assert.True(parsed!.Verify("s3cret"));
        Assert.False(parsed.Verify("s3cret "));
        Assert.DoesNotContain("s3cret", hash.ToString());
        Assert.False(PasswordHash.TryParse("$pbkdf2-sha256$1000$AAAAAAAAAAA=$AAAA", out _, out var error));
        Assert.Contains("iterations", error);
    }
}
