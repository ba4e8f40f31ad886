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
    private readonly GatewayWorld _world = SmtpAuthWorld.Create();

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
