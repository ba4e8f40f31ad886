using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Smtp;

/// <summary>
/// The AUTH exchange itself, whatever the client sends: every answer to a 334 that cannot be one
/// ends the exchange with a clear reply, the session stays in step, and a silent client is cut off.
/// </summary>
public sealed class SmtpAuthExchangeTests : IDisposable
{
    private readonly GatewayWorld _world = SmtpAuthWorld.Create();

    public void Dispose() => _world.Dispose();

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

    /// <summary>Sends the AUTH command, then each answer to the 334 before it; the last reply.</summary>
    private static async Task<string?> AuthExchangeAsync(RawSmtpClient client, string command, string[] responses)
    {
        var reply = await client.CommandAsync(command);
        foreach (var response in responses)
        {
            Assert.StartsWith("334", reply);
            reply = await client.CommandAsync(response);
        }
        return reply;
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
        var reply = await AuthExchangeAsync(client, command, responses);
        Assert.Equal($"501 5.5.2 Invalid base64 data in {(responses.Length == 0 ? "initial" : "continued")} response", reply);
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
        Assert.StartsWith("235", await client.CommandAsync("AUTH PLAIN " + Base64("\0relay-user\0correct horse")));
    }

    /// <summary>SmtpServer read "LOGIN-MD5" as LOGIN with "MD5" for its initial response: the session faulted without a reply.</summary>
    [Theory]
    [InlineData("AUTH LOGIN-MD5")]
    [InlineData("AUTH PLAIN\\+:")]
    [InlineData("AUTH login;uth")]
    [InlineData("AUTH LOGIN\u007fCM")]
    [InlineData("AUTH PLAIN?x")]
    public async Task AuthWithAMechanismGluedToPlainOrLogin_Gets504_AndTheSessionGoesOn(string command)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await ConnectOverTlsAsync(gateway.Port);
        Assert.Equal("504 5.5.4 Unrecognized authentication type", await client.CommandAsync(command));
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
        var reply = await AuthExchangeAsync(client, command, responses);
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
        var reply = await AuthExchangeAsync(client, command, responses);
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
        var reply = await AuthExchangeAsync(client, command, responses);
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
        var reply = await AuthExchangeAsync(client, command, responses);
        Assert.StartsWith("334", reply);
        var started = DateTime.UtcNow;
        Assert.Equal("421 4.4.2 gateway.localdomain Error: timeout exceeded", await client.ReadReplyAsync(TimeSpan.FromSeconds(10)));
        Assert.Null(await client.ReadReplyAsync());
        Assert.InRange(DateTime.UtcNow - started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(8));
        var closed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "session-closed"));
        Assert.Equal("no answer to a 334 within Gateway:Smtp:CommandTimeout", closed.GetProperty("reason").GetString());
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "auth-failed"));
    }
}
