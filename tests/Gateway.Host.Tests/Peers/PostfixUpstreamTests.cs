using Gateway.Testing;
using Gateway.Testing.Peers;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Peers;

/// <summary>
/// Postfix as Gateway's upstream: it offers CHUNKING, so a copy goes with BDAT (no 354 to wait
/// for, no dot-stuffing), and the signature still verifies with openssl after Postfix relayed it
/// on; with Relay:Chunking off it goes with DATA. Postfix's smtpd logs the commands it got
/// (debug_peer_list), which is how the test tells them apart.
/// </summary>
public sealed class PostfixUpstreamTests : IAsyncLifetime
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(60);

    private readonly GatewayWorld _world = new();
    private CapturingSmtpSink _sink = null!;
    private PostfixInstance _postfix = null!;

    public async Task InitializeAsync()
    {
        ToolProcess.Require("postfix");
        ToolProcess.Require("openssl");
        _sink = await CapturingSmtpSink.StartAsync();
        _postfix = await PostfixInstance.StartAsync(FreePort.Next(), "127.0.0.1", _sink.Port, ["debug_peer_list = 127.0.0.1", "debug_peer_level = 2"]);
        _world.RelayTo(_postfix.ListenPort);
    }

    public async Task DisposeAsync()
    {
        await _postfix.DisposeAsync();
        await _sink.DisposeAsync();
        _world.Dispose();
    }

    private async Task<CapturedMessage> SendThroughAsync(string subject)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        // Dots at line starts: DATA must stuff them, BDAT must not.
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", subject, ".leading dot\r\n..two dots\r\n.\r\nend\r\n"),
            "alice@example.test", "dave@elsewhere.test");
        var captured = Assert.Single(await _sink.WaitForMessagesAsync(1, Wait));
        var eml = captured.WriteTo(Path.Combine(_world.Root, subject + ".eml"));
        var verified = await OpenSslCms.VerifyAsync(eml, _world.CaCertificatePath);
        Assert.True(verified.Success, "openssl cms -verify failed after Postfix relayed it: " + verified.Stderr);
        Assert.Contains("..two dots", verified.ContentText);
        return captured;
    }

    [Fact]
    public async Task ACopyGoesWithBdat_ToAnUpstreamThatOffersChunking_AndStillVerifies()
    {
        await SendThroughAsync("bdat");

        var log = await _postfix.MaillogAsync();
        Assert.Matches(@"< localhost\[127\.0\.0\.1\]: BDAT \d+ LAST", log);
        Assert.DoesNotContain("]: DATA", log);
    }

    [Fact]
    public async Task WithChunkingOff_ACopyGoesWithData()
    {
        _world.Settings["Gateway:Relay:Chunking"] = "false";
        await SendThroughAsync("data");

        var log = await _postfix.MaillogAsync();
        Assert.Contains("]: DATA", log);
        Assert.DoesNotContain("BDAT", log);
    }
}
