using System.Text;
using Gateway.Testing;
using Gateway.Testing.Peers;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Peers;

/// <summary>
/// The deployment the README describes: a company Postfix with <c>relayhost = [gateway]</c>.
/// swaks → Postfix → Gateway → upstream; openssl, not our own code, judges the result.
/// </summary>
public sealed class PostfixSmarthostTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly GatewayWorld _world = new();
    private CapturingSmtpSink? _sink;
    private RunningGateway? _gateway;
    private PostfixInstance? _postfix;

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        if (_postfix is not null) await _postfix.DisposeAsync();
        if (_gateway is not null) await _gateway.DisposeAsync();
        if (_sink is not null) await _sink.DisposeAsync();
        _world.Dispose();
    }

    [Fact]
    public async Task MailThroughPostfixWithGatewayAsRelayhost_ArrivesSignedAndEncrypted_AndPostfixLogsSent()
    {
        // Fail (never skip) with the package to install when a peer is missing.
        ToolProcess.Require("postfix");
        ToolProcess.Require("swaks");
        ToolProcess.Require("openssl");

        _sink = await CapturingSmtpSink.StartAsync();
        _world.Settings["Gateway:Relay:Host"] = "127.0.0.1";
        _world.Settings["Gateway:Relay:Port"] = _sink.Port.ToString(System.Globalization.CultureInfo.InvariantCulture);
        _world.Settings["Gateway:Relay:TlsMode"] = "None";
        _gateway = await RunningGateway.StartAsync(_world);
        _postfix = await PostfixInstance.StartAsync(FreePort.Next(), "127.0.0.1", _gateway.Port);

        var subject = $"postfix relayhost {Guid.NewGuid():N}";
        var swaks = await ToolProcess.RunAsync("swaks",
        [
            "--server", $"127.0.0.1:{_postfix.ListenPort}",
            "--from", "alice@example.test", "--to", "bob@partner.test",
            "--h-Subject", subject, "--body", "Figures only bob may read.",
            "--silent", "2",
        ], timeout: TimeSpan.FromSeconds(30));
        swaks.EnsureSuccess();

        var captured = Assert.Single(await _sink.WaitForMessagesAsync(1, Wait));
        Assert.Equal("alice@example.test", captured.MailFrom);
        Assert.Equal(["bob@partner.test"], captured.RcptTo);
        var text = Encoding.ASCII.GetString(captured.Data);
        Assert.Contains("application/pkcs7-mime; smime-type=enveloped-data", text);
        Assert.DoesNotContain("Figures only bob may read", text);
        Assert.Equal(subject, captured.Parse().Subject);
        Assert.Contains($"by mx-{_postfix.ListenPort}.example.test", text); // it really came through Postfix

        var relayed = captured.WriteTo(Path.Combine(_world.Root, "relayed.eml"));
        var decrypted = await OpenSslCms.DecryptAsync(relayed, _world.BobFiles.CertificatePath, _world.BobFiles.KeyPath);
        Assert.True(decrypted.Success, "openssl cms -decrypt failed: " + decrypted.Stderr);
        var inner = Path.Combine(_world.Root, "decrypted.eml");
        await File.WriteAllBytesAsync(inner, decrypted.Content);
        Assert.Contains("multipart/signed", decrypted.ContentText);
        var verified = await OpenSslCms.VerifyAsync(inner, _world.CaCertificatePath);
        Assert.True(verified.Success, "openssl cms -verify failed: " + verified.Stderr);
        Assert.Contains("Figures only bob may read.", verified.ContentText);

        var sent = await WaitForMaillogAsync(_postfix, $"relay=127.0.0.1[127.0.0.1]:{_gateway.Port}");
        Assert.Contains("status=sent", sent);
        Assert.Contains("to=<bob@partner.test>", sent);
        Assert.Contains("queued as", sent); // Postfix logs the gateway's 250 text
    }

    [Fact]
    public async Task PostfixPassesNotifyAndOrcpt_ToGateway_WhichReportsSuccessForAnUpstreamWithoutDsn_AndPostfixSendsNoNoticeOfItsOwn()
    {
        ToolProcess.Require("postfix");
        _sink = await CapturingSmtpSink.StartAsync(); // offers no DSN: the gateway is the last hop that can report success
        _world.RelayTo(_sink.Port);
        _gateway = await RunningGateway.StartAsync(_world);
        _postfix = await PostfixInstance.StartAsync(FreePort.Next(), "127.0.0.1", _gateway.Port);

        await using (var client = await Gateway.Tests.Smtp.RawSmtpClient.ConnectAsync(_postfix.ListenPort))
        {
            Assert.StartsWith("220", await client.ReadReplyAsync());
            Assert.StartsWith("250", await client.CommandAsync("EHLO client.example.test"));
            Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<alice@example.test> ENVID=postfix-env-1"));
            Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<frank@elsewhere.test> NOTIFY=SUCCESS ORCPT=rfc822;sales+2Bfrank@elsewhere.test"));
            Assert.StartsWith("354", await client.CommandAsync("DATA"));
            Assert.StartsWith("250", await client.CommandAsync("Subject: through postfix with dsn\r\nMessage-ID: <postfix-dsn@example.test>\r\n\r\nbody\r\n."));
            await client.CommandAsync("QUIT");
        }

        var messages = await _sink.WaitForMessagesAsync(2, Wait);
        var report = Assert.Single(messages, m => m.MailFrom == "");
        Assert.Equal(["alice@example.test"], report.RcptTo);
        var status = Assert.IsType<MimeKit.MessageDeliveryStatus>(Assert.IsType<MimeKit.MultipartReport>(report.Parse().Body)[1]);
        Assert.Equal("postfix-env-1", status.StatusGroups[0]["Original-Envelope-Id"]);
        Assert.Equal("relayed", status.StatusGroups[1]["Action"]);
        Assert.Equal("rfc822; sales+frank@elsewhere.test", status.StatusGroups[1]["Original-Recipient"]); // Postfix passed the client's ORCPT on
        Assert.Single(messages, m => m.RcptTo.SequenceEqual(["frank@elsewhere.test"]));

        // Postfix saw DSN offered and handed NOTIFY on: it reports nothing itself (it would for a relayhost without DSN).
        // Its own notice would come after the status=sent line, through the gateway, as a third message.
        await WaitForMaillogAsync(_postfix, $"relay=127.0.0.1[127.0.0.1]:{_gateway.Port}");
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.DoesNotContain("delivery status notification", await _postfix.MaillogAsync());
        Assert.Equal(2, _sink.Messages.Count);
    }

    /// <summary>Postfix logs delivery asynchronously; waits for the status=sent line that names the gateway.</summary>
    private static async Task<string> WaitForMaillogAsync(PostfixInstance postfix, string relay)
    {
        var deadline = DateTime.UtcNow + Wait;
        string log;
        do
        {
            log = await postfix.MaillogAsync();
            var line = log.Split('\n').FirstOrDefault(l => l.Contains(relay, StringComparison.Ordinal) && l.Contains("status=sent", StringComparison.Ordinal));
            if (line is not null) return line;
            await Task.Delay(200);
        }
        while (DateTime.UtcNow < deadline);
        throw new TimeoutException($"no status=sent line with {relay} in the Postfix maillog:\n{log}");
    }
}
