using Gateway.Testing;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Peers;

/// <summary>
/// Postfix as Gateway's upstream: it offers CHUNKING, so a copy goes with BDAT (no 354 to wait
/// for, no dot-stuffing), and the signature still verifies with openssl after Postfix relayed it
/// on; with Relay:Chunking off it goes with DATA. Postfix's smtpd logs the commands it got
/// (debug_peer_list), which is how the test tells them apart.
/// </summary>
public sealed class PostfixUpstreamTests() : GatewayRelayingThroughPostfix(verifiedTls: false)
{
    protected override Task<PostfixInstance> StartPostfixAsync(int sinkPort)
    {
        ToolProcess.Require("openssl");
        return PostfixInstance.StartAsync(FreePort.Next(), "127.0.0.1", sinkPort, ["debug_peer_list = 127.0.0.1", "debug_peer_level = 2"]);
    }

    /// <summary>Sends through a running gateway and checks the copy Postfix relayed on: it still verifies, dots and 8-bit text intact.</summary>
    private async Task SendThroughAsync(RunningGateway gateway, string subject, int expectedAtSink, string text = "plain words")
    {
        // Dots at line starts: DATA must stuff them, BDAT must not.
        var message = RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", subject, $".leading dot\r\n..two dots\r\n.\r\n{text}\r\n");
        ((MimeKit.TextPart)message.Body!).ContentTransferEncoding = MimeKit.ContentEncoding.EightBit;
        await gateway.SendAsync(message, "alice@example.test", "dave@elsewhere.test");
        var captured = (await Sink.WaitForMessagesAsync(expectedAtSink, Wait)).Single(m => m.Parse().Subject == subject);
        var eml = captured.WriteTo(Path.Combine(World.Root, subject + ".eml"));
        var verified = await OpenSslCms.VerifyAsync(eml, World.CaCertificatePath);
        Assert.True(verified.Success, "openssl cms -verify failed after Postfix relayed it: " + verified.Stderr);
        Assert.Contains("..two dots", verified.ContentText);
    }

    [Fact]
    public async Task CopiesGoWithBdat_ToAnUpstreamThatOffersChunking_OneAfterAnother_AndStillVerify()
    {
        await using (var gateway = await RunningGateway.StartAsync(World))
        {
            // Three copies over the pooled connection: a chunk size one byte off would leave bytes that Postfix reads as a command.
            await SendThroughAsync(gateway, "bdat-1", 1);
            await SendThroughAsync(gateway, "bdat-2", 2, "Grüße, 8-bit");
            await SendThroughAsync(gateway, "bdat-3", 3);
        }

        var log = await Postfix.WaitForMaillogAsync(@"disconnect from localhost\[127\.0\.0\.1\] ehlo");
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(log, @"< localhost\[127\.0\.0\.1\]: BDAT \d+ LAST").Count);
        Assert.DoesNotContain("]: DATA", log);
        Assert.DoesNotMatch(@"> localhost\[127\.0\.0\.1\]: 5\d\d", log); // no refusal of what followed a chunk
        Assert.Contains("disconnect from localhost[127.0.0.1] ehlo=1 mail=3 rcpt=3 bdat=3 quit=1", log); // one pooled connection, three chunks
    }

    /// <summary>
    /// A burst from 8 clients at once over the pool's sessions (pipelined MAIL, RCPT and BDAT, or
    /// DATA with Relay:Chunking off):
    /// every copy arrives exactly once, none is deferred, and Postfix refuses nothing, so no
    /// reply was ever read out of step.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task ABurstOf300FromEightClients_OverPooledPipelinedSessions_ArrivesOnceEach_NoneDeferred(bool chunking)
    {
        const int Messages = 300;
        World.Settings["Gateway:Relay:Chunking"] = chunking ? "true" : "false";
        await using (var gateway = await RunningGateway.StartAsync(World))
        {
            await Parallel.ForEachAsync(Enumerable.Range(0, Messages), new ParallelOptions { MaxDegreeOfParallelism = 8 }, async (i, _) =>
                await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", $"user{i % 7}@elsewhere.test", $"burst-{i}"), "alice@example.test", $"user{i % 7}@elsewhere.test"));
            var arrived = await Sink.WaitForMessagesAsync(Messages, TimeSpan.FromMinutes(2));
            Assert.Equal(Enumerable.Range(0, Messages).Select(i => $"burst-{i}").Order(), arrived.Select(m => m.Parse().Subject).Order());
            Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "deferred") || RunningGateway.Is(e, "failed"));
        }

        var log = await Postfix.MaillogAsync();
        Assert.DoesNotMatch(@"> localhost\[127\.0\.0\.1\]: [45]\d\d", log);
        Assert.Equal(Messages, System.Text.RegularExpressions.Regex.Matches(log, chunking ? @"< localhost\[127\.0\.0\.1\]: BDAT \d+ LAST" : @"< localhost\[127\.0\.0\.1\]: DATA\r?$", System.Text.RegularExpressions.RegexOptions.Multiline).Count);
    }

    [Fact]
    public async Task WithChunkingOff_ACopyGoesWithData()
    {
        World.Settings["Gateway:Relay:Chunking"] = "false";
        await using (var gateway = await RunningGateway.StartAsync(World)) await SendThroughAsync(gateway, "data", 1);

        var log = await Postfix.MaillogAsync();
        Assert.Contains("]: DATA", log);
        Assert.DoesNotContain("BDAT", log);
    }
}
