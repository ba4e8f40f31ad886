using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Smtp;

/// <summary>
/// SMTP smuggling and malformed DATA, each sent byte for byte: only CRLF.CRLF ends DATA, a bare
/// LF or CR refuses the message (Postfix 3.9's reject mode), nothing is queued, and a smuggled
/// second transaction is never executed.
/// </summary>
public sealed class SmtpSmugglingTests : IDisposable
{
    private const string Smuggled = "MAIL FROM:<ceo@example.test>\r\nRCPT TO:<victim@elsewhere.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nforged\r\n";

    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private IReadOnlyList<SpooledMessages.Message> Queued() => SpooledMessages.All(_world.SpoolPath);

    [Theory]
    [InlineData("\n.\n", "bare <LF>")]        // the original smuggling end marker
    [InlineData("\r\n.\n", "bare <LF>")]
    [InlineData("\n.\r\n", "bare <LF>")]
    [InlineData("\r.\r", "bare <CR>")]
    [InlineData("\r\n.\r", "bare <CR>")]
    [InlineData("\r.\r\n", "bare <CR>")]
    public async Task FalseEndOfData_DoesNotEndData_AndTheMessageIsRefusedWhole(string fakeEnd, string reason)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync("Subject: outer\r\n\r\nbody" + fakeEnd + Smuggled + "\r\n.\r\n");
        Assert.Equal($"550 5.5.2 Error: {reason} received", await client.ReadReplyAsync());
        // One reply for the whole DATA: the smuggled MAIL/RCPT/DATA were message content, never commands.
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
        Assert.Empty(Queued());
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.Equal("127.0.0.1", refused.GetProperty("client").GetString());
    }

    [Fact]
    public async Task BareLf_WithNormalize_IsStoredAsCrlf_AndStillOneMessage()
    {
        _world.Settings["Gateway:Smtp:BareNewline"] = "Normalize";
        _world.RelayTo(Gateway.Testing.FreePort.Next());
        _world.Settings["Gateway:Spool:FirstRetry"] = "01:00:00";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync("Subject: lf\nFrom: alice@example.test\n\nbody\n.\nstill body\r\n.\r\n");
        Assert.StartsWith("250 2.0.0 queued as", await client.ReadReplyAsync());
        var content = Assert.Single(Queued()).Text;
        Assert.EndsWith("Subject: lf\r\nFrom: alice@example.test\r\n\r\nbody\r\n.\r\nstill body\r\n", content);
    }

    [Fact]
    public async Task EmptyData_IsAnswered_NotLeftHanging()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync(".\r\n");
        Assert.Equal("554 5.6.0 Message is empty", await client.ReadReplyAsync(TimeSpan.FromSeconds(5)));
        Assert.Equal("250 Ok", await client.CommandAsync("NOOP"));
        Assert.Empty(Queued());
    }

    [Fact]
    public async Task DoubleDotOnTheFirstLine_IsUnstuffed_LikeEveryOtherLine()
    {
        _world.RelayTo(Gateway.Testing.FreePort.Next());
        _world.Settings["Gateway:Spool:FirstRetry"] = "01:00:00";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync("..X-First: dot\r\nSubject: s\r\n\r\n..body\r\n.\r\n");
        Assert.StartsWith("250", await client.ReadReplyAsync());
        var content = Assert.Single(Queued()).Text;
        Assert.EndsWith("\r\n.X-First: dot\r\nSubject: s\r\n\r\n.body\r\n", content);
    }

    [Fact]
    public async Task AcceptedMessage_GetsOurReceivedLineAndLoopMarker_AboveTheClientsHeaders()
    {
        _world.Settings["Gateway:Smtp:ServerName"] = "gw.example.test";
        _world.RelayTo(Gateway.Testing.FreePort.Next());
        _world.Settings["Gateway:Spool:FirstRetry"] = "01:00:00";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync("Subject: traced\r\n\r\nbody\r\n.\r\n");
        var reply = await client.ReadReplyAsync();
        var id = reply!["250 2.0.0 queued as ".Length..];
        var content = Assert.Single(Queued()).Text;
        Assert.Matches($"^Received: from \\[127.0.0.1\\]\r\n\tby gw.example.test \\(Gateway\\) with ESMTP id {id};\r\n\t[A-Z][a-z]{{2}}, .+ \\+0000\r\nX-Gateway-Loop: gw.example.test\r\nSubject: traced\r\n\r\nbody\r\n$", content);
    }

    [Fact]
    public async Task FiftyOneReceivedHeaders_AreARoutingLoop_RefusedWith554_546()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        var received = string.Concat(Enumerable.Range(0, 51).Select(i => $"Received: from hop{i}.example.test by hop{i + 1}.example.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n"));
        await client.SendAsync(received + "Subject: loop\r\n\r\nbody\r\n.\r\n");
        Assert.StartsWith("554 5.4.6 ", await client.ReadReplyAsync());
        Assert.Empty(Queued());
    }

    [Fact]
    public async Task FiftyReceivedHeaders_AreStillAccepted()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        var received = string.Concat(Enumerable.Range(0, 50).Select(i => $"Received: from hop{i}.example.test; Mon, 1 Jan 2024 00:00:00 +0000\r\n"));
        await client.SendAsync(received + "Subject: fifty\r\n\r\nbody\r\n.\r\n");
        Assert.StartsWith("250 ", await client.ReadReplyAsync());
    }

    [Fact]
    public async Task OurOwnLoopMarkerSeenTwice_IsAMailLoop_Refused()
    {
        _world.Settings["Gateway:Smtp:ServerName"] = "gw.example.test";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        await client.SendAsync("X-Gateway-Loop: gw.example.test\r\nX-Gateway-Loop: gw.example.test\r\nSubject: again\r\n\r\nbody\r\n.\r\n");
        Assert.Equal("554 5.4.6 Mail loop detected: message already passed this gateway", await client.ReadReplyAsync());
        Assert.Empty(Queued());
    }

    [Fact]
    public async Task HugeHeaderBlock_IsRefusedWith552_534()
    {
        _world.Settings["Gateway:Smtp:MaxHeaderSize"] = "4096";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await using var client = await RawSmtpClient.ConnectAsync(gateway.Port);
        await client.StartDataAsync();
        var headers = string.Concat(Enumerable.Range(0, 100).Select(i => $"X-Filler-{i}: {new string('h', 60)}\r\n"));
        await client.SendAsync(headers + "Subject: big\r\n\r\nsmall body\r\n.\r\n");
        Assert.Equal("552 5.3.4 Message header size exceeds limit", await client.ReadReplyAsync());
        Assert.Empty(Queued());
    }
}
