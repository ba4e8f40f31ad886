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
