using System.Text;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Smtp;

namespace Gateway.Tests.Harvest;

/// <summary>
/// The inbound endpoint: a partner's signed mail passes to the internal MTA byte for byte, its
/// certificate is harvested, and the next outbound mail to that partner is encrypted with it.
/// </summary>
public sealed class InboundHarvestTests : GatewayWithInboundEndpoint
{
    private async Task<byte[]> SignedByFrankAsync()
    {
        var frank = World.Pki.Issue("frank@partner.test").WriteTo(Path.Combine(World.Root, "frank"), "x");
        var body = Path.Combine(World.Root, "body.mime");
        await File.WriteAllTextAsync(body, "Content-Type: text/plain; charset=us-ascii\r\n\r\nHello from Frank, signed.\r\n");
        var signed = Path.Combine(World.Root, "signed.eml");
        var result = await OpenSslCms.SignAsync(body, signed, frank.CertificatePath, frank.KeyPath, headers: new MessageHeaders("frank@partner.test", "alice@example.test", "signed hello"));
        Assert.True(result.Success, result.Stderr);
        var text = (await File.ReadAllTextAsync(signed)).Replace("\r\n", "\n").Replace("\n", "\r\n");
        return Encoding.ASCII.GetBytes(text);
    }

    [Fact]
    public async Task SignedInboundMail_PassesOnUnchanged_AndItsCertificateEncryptsTheReply()
    {
        var signed = await SignedByFrankAsync();
        var reply = await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], signed);
        Assert.StartsWith("250 2.0.0 passed on", reply);

        var passed = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal(signed, BelowOurReceivedLine(passed.Data));
        Assert.Equal(["alice@example.test"], passed.RcptTo);
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "certificate-harvested", "frank@partner.test"));

        // partner.test requires encryption: before the harvest there was no certificate for frank.
        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "frank@partner.test", "re: signed hello", "Now encrypted.\r\n"), "alice@example.test", "frank@partner.test");
        var delivered = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "frank@partner.test"));
        Assert.Equal("signed+encrypted", delivered.GetProperty("action").GetString());
        var decision = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", "frank@partner.test"));
        Assert.Equal("harvested", decision.GetProperty("certificateSource").GetString());
    }

    [Fact]
    public async Task ASigningOnlyCertificate_SentWithItsEncryptionCertificate_HarvestsThatOne_AndTheReplyOpensWithItsKey()
    {
        // A dual-key set-up: openssl signs with a signing-only certificate and carries the encryption certificate (-certfile).
        var signing = World.Pki.Issue("frank@partner.test", new Gateway.Testing.Pki.CertificateOptions
        {
            KeyUsage = System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.DigitalSignature,
        }).WriteTo(Path.Combine(World.Root, "frank-signing"), "x");
        using var encryptionIdentity = World.Pki.Issue("frank@partner.test", new Gateway.Testing.Pki.CertificateOptions
        {
            KeyUsage = System.Security.Cryptography.X509Certificates.X509KeyUsageFlags.KeyEncipherment,
        });
        var encryption = encryptionIdentity.WriteTo(Path.Combine(World.Root, "frank-encryption"), "x");
        var body = Path.Combine(World.Root, "dual.mime");
        await File.WriteAllTextAsync(body, "Content-Type: text/plain; charset=us-ascii\r\n\r\nSigned with my signing key.\r\n");
        var signedPath = Path.Combine(World.Root, "dual-signed.eml");
        var signedBy = await OpenSslCms.SignAsync(body, signedPath, signing.CertificatePath, signing.KeyPath, extraCertsPath: encryption.CertificatePath,
            headers: new MessageHeaders("frank@partner.test", "alice@example.test", "dual key"));
        Assert.True(signedBy.Success, signedBy.Stderr);
        var signed = Encoding.ASCII.GetBytes((await File.ReadAllTextAsync(signedPath)).Replace("\r\n", "\n").Replace("\n", "\r\n"));

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], signed));
        var harvested = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "certificate-harvested", "frank@partner.test"));
        Assert.Equal([encryptionIdentity.Certificate.Thumbprint], harvested.GetProperty("recipientCertificates").EnumerateArray().Select(t => t.GetString()));

        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "frank@partner.test", "re: dual key", "For your encryption key.\r\n"), "alice@example.test", "frank@partner.test");
        var messages = await Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(20));
        var reply = messages.Single(m => m.RcptTo.SequenceEqual(["frank@partner.test"]));
        var eml = reply.WriteTo(Path.Combine(World.Root, "reply.eml"));
        var decrypted = await OpenSslCms.DecryptAsync(eml, encryption.CertificatePath, encryption.KeyPath);
        Assert.True(decrypted.Success, decrypted.Stderr);
        Assert.Contains("For your encryption key.", decrypted.ContentText);
    }

    [Fact]
    public async Task InboundMail_IsPassedOnWithOurReceivedLineAboveItsHeaders()
    {
        var message = Encoding.ASCII.GetBytes("Received: from mx.partner.test\r\nFrom: <frank@partner.test>\r\nSubject: traced\r\n\r\nbody\r\n");
        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));

        var text = Encoding.ASCII.GetString(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data);
        Assert.Matches(@"^Received: from \[127\.0\.0\.1\]\r\n\tby gw\.example\.test \(Gateway\) with ESMTP;\r\n\t\w{3}, \d{2} \w{3} \d{4} \d{2}:\d{2}:\d{2} \+0000\r\nReceived: from mx\.partner\.test\r\n", text);
        Assert.EndsWith("Subject: traced\r\n\r\nbody\r\n", text);
    }

    [Fact]
    public async Task InboundMail_WithMoreReceivedLinesThanMaxHops_IsRefusedAsALoop_AndNotPassedOn()
    {
        var looping = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("Received: from mx.partner.test\r\n", 51)) + "From: <frank@partner.test>\r\n\r\nround and round\r\n");
        Assert.StartsWith("554 5.4.6", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], looping));
        var refused = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.StartsWith("inbound endpoint: ", refused.GetProperty("reason").GetString());

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], Encoding.ASCII.GetBytes("Subject: next\r\n\r\nbody\r\n")));
        Assert.EndsWith("Subject: next\r\n\r\nbody\r\n", Encoding.ASCII.GetString(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data));
    }

    [Fact]
    public async Task AUtf8Domain_IsPassedOnAsTheSenderWroteIt()
    {
        await using var client = await RawSmtpClient.ConnectAsync(await InboundPortAsync());
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO mx.partner.test");
        await client.SendAsync(Encoding.UTF8.GetBytes("MAIL FROM:<frank@bücher.example> SMTPUTF8\r\nRCPT TO:<alice@example.test>\r\nDATA\r\n"));
        Assert.StartsWith("250", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.ReadReplyAsync());
        Assert.StartsWith("354", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("Subject: eai\r\n\r\nbody\r\n."));

        var passed = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-passed"));
        Assert.Equal("frank@bücher.example", passed.GetProperty("sender").GetString());
    }

    [Fact]
    public async Task InboundDataTooLargeToKeep_IsRefused_AndAuditedWithItsSenderAndRecipients()
    {
        var port = await InboundPortAsync();
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.StartDataAsync("frank@partner.test", "alice@example.test");
        await client.SendAsync(string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 400)) + ".\r\n");
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        var refused = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.StartsWith("inbound endpoint: ", refused.GetProperty("reason").GetString());
        Assert.Equal("frank@partner.test", refused.GetProperty("sender").GetString());
        Assert.Equal(["alice@example.test"], refused.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task InboundDataJustOverTheLimit_IsRefusedWith552_AndAuditedWithItsSenderAndRecipients()
    {
        var port = await InboundPortAsync();
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.StartDataAsync("frank@partner.test", "alice@example.test");
        // 101,000 bytes against a limit of 100,000: received whole, then measured by the store.
        await client.SendAsync(string.Concat(Enumerable.Repeat(new string('x', 998) + "\r\n", 101)) + ".\r\n");
        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("NOOP"));
        var refused = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.Equal("inbound endpoint: Message size exceeds fixed limit (Gateway:Smtp:MaxMessageSize)", refused.GetProperty("reason").GetString());
        Assert.Equal(101_000, refused.GetProperty("size").GetInt64());
        Assert.Equal("frank@partner.test", refused.GetProperty("sender").GetString());
        Assert.Equal(["alice@example.test"], refused.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
    }

    /// <summary>
    /// SMTP smuggling through the inbound endpoint: an internal MTA that takes a bare CR for a line
    /// end would read a false end of data, then a second message from anyone, received from us.
    /// Refused, nothing passed on.
    /// </summary>
    [Fact]
    public async Task InboundDataWithABareCr_IsRefused_AndNothingReachesTheInternalMta()
    {
        var port = await InboundPortAsync();
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.StartDataAsync("frank@partner.test", "alice@example.test");
        await client.SendAsync("Subject: smuggling\r\n\r\nfirst\r.\rMAIL FROM:<ceo@example.test>\r\n.\r\n");

        Assert.StartsWith("550 5.5.2", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("NOOP"));
        var refused = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.StartsWith("inbound endpoint: ", refused.GetProperty("reason").GetString());
        Assert.Empty(Sink.Messages);
    }

    /// <summary>A bare LF is made CRLF: the line "." it made is then dot-stuffed like any other, and the internal MTA gets one message.</summary>
    [Fact]
    public async Task InboundDataWithABareLf_IsPassedOnWithCrlf_AsOneMessage()
    {
        var port = await InboundPortAsync();
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.StartDataAsync("frank@partner.test", "alice@example.test");
        await client.SendAsync("Subject: bare lf\r\n\r\nfirst\n.\nMAIL FROM:<ceo@example.test>\r\n.\r\n");

        Assert.StartsWith("250", await client.ReadReplyAsync());
        var passed = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.EndsWith("\r\n\r\nfirst\r\n.\r\nMAIL FROM:<ceo@example.test>\r\n", Encoding.ASCII.GetString(passed.Data));
    }

    /// <summary>Each bare LF made CRLF adds a byte: data under the limit as sent may be over it as passed on, and is refused here, not by the internal MTA after the dot.</summary>
    [Fact]
    public async Task InboundDataOverTheLimitOnceItsBareLfsAreCrlf_IsRefusedWith552()
    {
        var port = await InboundPortAsync();
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.StartDataAsync("frank@partner.test", "alice@example.test");
        // 80,000 octets as sent, 120,000 with CRLF, against a limit of 100,000.
        await client.SendAsync("Subject: lf\r\n\r\n" + string.Concat(Enumerable.Repeat("x\n", 40_000)) + "\r\n.\r\n");

        Assert.StartsWith("552 5.3.4", await client.ReadReplyAsync());
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "message-refused"));
        Assert.Empty(Sink.Messages);
    }

    /// <summary>RFC 1870: a declared size over the limit is refused before the data is sent, on the inbound endpoint as on the outbound one.</summary>
    [Theory]
    [InlineData("SIZE=4294967296", "552 5.3.4")]
    [InlineData("SIZE=lots", "501 5.5.4")]
    public async Task InboundMailFrom_DeclaringASizeOverTheLimitOrNoNumber_IsRefusedBeforeTheData(string parameter, string expected)
    {
        var port = await InboundPortAsync();
        await using var client = await RawSmtpClient.ConnectAsync(port);
        Assert.StartsWith("220", await client.ReadReplyAsync());
        Assert.StartsWith("250", await client.CommandAsync("EHLO partner.test"));

        Assert.StartsWith(expected, await client.CommandAsync($"MAIL FROM:<frank@partner.test> {parameter}"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<frank@partner.test> SIZE=1000"));
    }

    [Fact]
    public async Task InboundMail_WhenTheInternalMtaIsDown_GetsA451_SoTheSenderKeepsIt()
    {
        var port = await InboundPortAsync();
        await Sink.DisposeAsync();
        var reply = await SendAsync(port, "someone@partner.test", ["alice@example.test"], Encoding.ASCII.GetBytes("Subject: plain\r\n\r\nnot signed\r\n"));
        Assert.StartsWith("451 4.4.1", reply);
    }
}
