using Gateway.Testing;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Peers;

/// <summary>
/// Gateway's own SMTP client against Postfix over STARTTLS with a verified certificate
/// (Relay:TlsMode Required and the test CA): the TLS handshake with OpenSSL on the other side,
/// EHLO again over TLS, and the pipelined BDAT batches on the encrypted, pooled session, which
/// Postfix's smtpd logs command by command.
/// </summary>
public sealed class PostfixTlsUpstreamTests() : GatewayRelayingThroughPostfix(verifiedTls: true)
{
    protected override async Task<PostfixInstance> StartPostfixAsync(int sinkPort) =>
        await PostfixInstance.StartAsync(FreePort.Next(), "127.0.0.1", sinkPort,
            [.. await PostfixTlsServer.SettingsAsync(World), "smtpd_tls_loglevel = 1", "debug_peer_list = 127.0.0.1", "debug_peer_level = 2"]);

    [Fact]
    public async Task RequiredTls_ToPostfix_VerifiesItsCertificate_AndSendsPipelinedChunksOverTheEncryptedSession()
    {
        await using (var gateway = await RunningGateway.StartAsync(World))
        {
            // One after the other, so the second goes on the pooled session.
            for (var sent = 1; sent <= 2; sent++)
            {
                await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", $"tls-{sent}", ".dot line\r\nbody\r\n"), "alice@example.test", "dave@elsewhere.test");
                var arrived = await Sink.WaitForMessagesAsync(sent, Wait);
                Assert.All(arrived, m => Assert.Contains("\r\n.dot line\r\n", System.Text.Encoding.UTF8.GetString(m.Data)));
            }
            // The audit says where each copy went and how the hop was protected.
            var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
            Assert.Equal($"127.0.0.1:{Postfix.ListenPort}", delivered.GetProperty("upstream").GetString());
            Assert.Matches(@"^TLSv1\.[23] TLS_", delivered.GetProperty("tls").GetString());
        }

        var log = await Postfix.WaitForMaillogAsync(@"disconnect from localhost\[127\.0\.0\.1\] ehlo");
        Assert.Matches(@"TLS connection established from localhost\[127\.0\.0\.1\]: TLSv1\.[23]", log);
        // One session: STARTTLS, EHLO before and after it, two chunks, and nothing refused.
        // (The instance's own check that it listens is a session without commands; a NOOP comes
        // when the machine was slow enough between the copies for the pool to check the session.)
        var session = Assert.Single(System.Text.RegularExpressions.Regex.Matches(log, @"disconnect from localhost\[127\.0\.0\.1\] (ehlo.*?) commands=")).Groups[1].Value;
        var counts = session.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(p => p.Split('=')).ToDictionary(p => p[0], p => p[1]);
        counts.Remove("noop");
        Assert.Equal(new Dictionary<string, string> { ["ehlo"] = "2", ["starttls"] = "1", ["mail"] = "2", ["rcpt"] = "2", ["bdat"] = "2", ["quit"] = "1" }, counts);
        Assert.DoesNotMatch(@"> localhost\[127\.0\.0\.1\]: 5\d\d", log);
    }
}
