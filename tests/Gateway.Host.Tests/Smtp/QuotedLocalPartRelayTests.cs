using System.Text.Json;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Smtp;

/// <summary>
/// A quoted local part goes through as RFC 5321 writes it: SmtpServer drops the quotes, and
/// "john doe"@elsewhere.test went on as john doe@elsewhere.test, which the relay cannot write in
/// an envelope: accepted with 250, then bounced. What SmtpServer would misread is refused at once.
/// </summary>
public sealed class QuotedLocalPartRelayTests : GatewayRelayingToSink
{
    [Fact]
    public async Task QuotedLocalParts_AreRelayedWithTheirQuotes_NotBouncedAfterThe250()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Running.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<\"al ice\"@other.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<\"john doe\"@elsewhere.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<\"plain\"@elsewhere.test>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        Assert.StartsWith("250", await client.CommandAsync("Subject: quoted\r\n\r\nhi\r\n."));

        var received = await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20));
        Assert.Equal(2, received[0].RcptTo.Count);
        // The audit lines come once the upstream's reply is read, which may be after the sink counted the message.
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "\"john doe\"@elsewhere.test"));
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "plain@elsewhere.test"));
        var delivered = Running.AuditEvents().Where(e => e.GetProperty("event").GetString() == "delivered").ToList();
        Assert.Equal(["\"john doe\"@elsewhere.test", "plain@elsewhere.test"], delivered.Select(e => e.GetProperty("recipient").GetString()).Order());
        Assert.All(delivered, e => Assert.Equal("\"al ice\"@other.test", e.GetProperty("sender").GetString()));
    }

    [Fact]
    public async Task QuotedLocalPartSmtpServerWouldMisread_Gets553_AndTheSessionGoesOn()
    {
        await using var client = await RawSmtpClient.ConnectAsync(Running.Port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO client.test");
        Assert.StartsWith("553 5.1.7", await client.CommandAsync("MAIL FROM:<\"quoted \\ocal\"@other.test>"));
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<alice@other.test>"));
        Assert.StartsWith("553 5.1.3", await client.CommandAsync("RCPT TO:<\"a\\r\\nRSET\"@elsewhere.test>"));
        Assert.StartsWith("553 5.1.3", await client.CommandAsync("RCPT TO:<\"\\u0062ob\"@elsewhere.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<bob@elsewhere.test>"));
    }
}
