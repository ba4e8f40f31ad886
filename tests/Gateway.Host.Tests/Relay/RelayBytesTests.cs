using System.Text;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;
using MailKit.Net.Smtp;
using MimeKit;

namespace Gateway.Tests.Relay;

/// <summary>A copy the policy leaves unchanged reaches the upstream byte for byte: the relay never re-encodes.</summary>
public sealed class RelayBytesTests() : GatewayRelayingToSink(PassThroughPolicy)
{
    private const string PassThroughPolicy = """
        { "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" } }
        """;


    [Fact]
    public async Task UnchangedCopy_IsRelayedByteForByte_Including8BitAndEncodedHeaders()
    {
        var raw = "From: Ünïcode Sender <alice@example.test>\r\n" +
                  "To: =?utf-8?b?QsO2Yg==?= <bob@partner.test>\r\n" +
                  "Subject: =?utf-8?q?Gr=C3=BC=C3=9Fe?= and a long subject line that goes on and on and on and on past the usual folding width\r\n" +
                  "Message-ID: <bytes-1@example.test>\r\n" +
                  "MIME-Version: 1.0\r\n" +
                  "Content-Type: text/plain; charset=utf-8\r\n" +
                  "Content-Transfer-Encoding: 8bit\r\n" +
                  "\r\n" +
                  "Grüße, 8-bit body.\r\n" +
                  ".leading dot line\r\n" +
                  "trailing spaces   \r\n";
        var bytes = Encoding.UTF8.GetBytes(raw);

        using (var client = new SmtpClient())
        {
            await client.ConnectAsync("127.0.0.1", Running.Port, MailKit.Security.SecureSocketOptions.None);
            await client.SendAsync(MimeMessage.Load(new MemoryStream(bytes)), new MailboxAddress("", "alice@example.test"), [new MailboxAddress("", "bob@partner.test")]);
            await client.DisconnectAsync(true);
        }

        var captured = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        // Byte for byte below the two trace lines every accepted message gets (Received, X-Gateway-Loop).
        Assert.Equal(raw, TraceHeaders.Strip(Encoding.UTF8.GetString(captured.Data)));
        var delivered = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "bob@partner.test"));
        Assert.Equal("relayed unchanged", delivered.GetProperty("action").GetString());
        // The relay sends the spooled bytes without parsing them: it must still declare them 8-bit
        // (RFC 6152) and declare their exact size (RFC 1870).
        Assert.Equal("8BITMIME", captured.MailParameters["BODY"]);
        Assert.Equal(captured.Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), captured.MailParameters["SIZE"]);
    }

    [Fact]
    public async Task SevenBitCopy_IsNotDeclared8Bit_AndDeclaresItsExactSize()
    {
        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "plain ascii", "only 7-bit text\r\n.dot line"),
            "alice@example.test", "bob@partner.test");

        var captured = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.False(captured.MailParameters.ContainsKey("BODY"));
        Assert.Equal(captured.Data.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), captured.MailParameters["SIZE"]);
        Assert.Contains("\r\n.dot line\r\n", Encoding.ASCII.GetString(captured.Data));
    }

    [Fact]
    public async Task AuditLog_NeverContainsTheBody()
    {
        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "subject", "BODY-MARKER-7f3a91 should never be logged"),
            "alice@example.test", "bob@partner.test");
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));
        Assert.DoesNotContain("BODY-MARKER-7f3a91", await File.ReadAllTextAsync(World.AuditPath));
    }
}
