using Gateway.Testing;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Relay;

/// <summary>
/// The client's ENVID, RET and NOTIFY reach an upstream that offers DSN (Postfix's smtp-sink, which
/// records the MAIL and RCPT parameters it got as X-Mail-Args and X-Rcpt-Args in each dumped
/// message), and reporting success is left to it.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class DsnPassThroughTests : IAsyncLifetime
{
    private readonly GatewayWorld _world = new();
    private System.Diagnostics.Process? _sink;
    private string _dumps = null!;
    private int _port;

    public Task InitializeAsync()
    {
        _dumps = Path.Combine(_world.Root, "sink-dumps");
        Directory.CreateDirectory(_dumps);
        File.SetUnixFileMode(_dumps, (UnixFileMode)0b111_111_111); // smtp-sink writes as nobody
        File.SetUnixFileMode(_world.Root, File.GetUnixFileMode(_world.Root) | UnixFileMode.OtherExecute);
        _port = FreePort.Next();
        var info = new System.Diagnostics.ProcessStartInfo(ToolProcess.Require("smtp-sink"))
        {
            ArgumentList = { "-u", "nobody", "-d", Path.Combine(_dumps, "%H%M%S."), $"127.0.0.1:{_port}", "16" },
            RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false,
        };
        _sink = System.Diagnostics.Process.Start(info);
        return Task.CompletedTask;
    }

    public Task DisposeAsync()
    {
        if (_sink is { HasExited: false }) _sink.Kill();
        _sink?.Dispose();
        _world.Dispose();
        return Task.CompletedTask;
    }

    /// <summary>smtp-sink creates each dump file first and fills it as the message arrives: waits for <paramref name="count"/> whole bodies.</summary>
    private async Task<List<string>> DumpsAsync(string body, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<string> texts = [];
        while (DateTime.UtcNow < deadline)
        {
            texts = Directory.GetFiles(_dumps).Select(File.ReadAllText).ToList();
            if (texts.Count(t => t.Contains(body, StringComparison.Ordinal)) >= count) break;
            await Task.Delay(100);
        }
        return texts;
    }

    [Fact]
    public async Task EnvidAndRet_FromTheClient_ArePassedToAnUpstreamThatOffersDsn()
    {
        _world.RelayTo(_port);
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendRawAsync("dave@other.test", "frank@elsewhere.test", "with-dsn", "RET=HDRS ENVID=gw+2Benv-1");
        await gateway.SendRawAsync("dave@other.test", "frank@elsewhere.test", "without-dsn", "");

        var texts = await DumpsAsync("secret body of with", 2);
        var withDsn = Assert.Single(texts, t => t.Contains("Subject: with-dsn"));
        var withoutDsn = Assert.Single(texts, t => t.Contains("Subject: without-dsn"));
        var mailArgs = withDsn.Split('\n').First(l => l.StartsWith("X-Mail-Args:", StringComparison.Ordinal));
        Assert.Contains("ENVID=gw+2Benv-1 ", mailArgs + " "); // as received: xtext, encoded once
        Assert.Contains("RET=HDRS", mailArgs);
        Assert.DoesNotContain("ENVID", withoutDsn.Split('\n').First(l => l.StartsWith("X-Mail-Args:", StringComparison.Ordinal)));
    }

    [Fact]
    public async Task Notify_IsPassedPerRecipient_ToAnUpstreamThatOffersDsn_WhichThenReportsSuccess_NotGateway()
    {
        _world.RelayTo(_port);
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendRawAsync("dave@other.test", "frank@elsewhere.test", "notify-success", "", "NOTIFY=SUCCESS,DELAY ORCPT=rfc822;frank@elsewhere.test");
        await gateway.SendRawAsync("dave@other.test", "grace@elsewhere.test", "notify-never", "", "NOTIFY=NEVER");
        await gateway.SendRawAsync("dave@other.test", "heidi@elsewhere.test", "notify-default", "");
        await gateway.SendRawAsync("dave@other.test", "ivan@xn--bcher-kva.example", "notify-idn", "", "NOTIFY=SUCCESS");

        var texts = await DumpsAsync("secret body of notify-", 4);
        string RcptArgs(string subject) => texts.Single(t => t.Contains($"Subject: {subject}")).Split('\n').Single(l => l.StartsWith("X-Rcpt-Args:", StringComparison.Ordinal));
        Assert.Equal("X-Rcpt-Args: <frank@elsewhere.test> NOTIFY=SUCCESS,DELAY ORCPT=rfc822;frank@elsewhere.test", RcptArgs("notify-success"));
        Assert.Equal("X-Rcpt-Args: <grace@elsewhere.test> NOTIFY=NEVER ORCPT=rfc822;grace@elsewhere.test", RcptArgs("notify-never"));
        Assert.Equal("X-Rcpt-Args: <heidi@elsewhere.test>", RcptArgs("notify-default"));
        // A domain in xn-- form: MimeKit reads it as Unicode, and NOTIFY must still go with it.
        Assert.Equal("X-Rcpt-Args: <ivan@xn--bcher-kva.example> NOTIFY=SUCCESS ORCPT=rfc822;ivan@xn--bcher-kva.example", RcptArgs("notify-idn"));

        // The upstream took NOTIFY=SUCCESS with the recipient: no "relayed" report of ours follows.
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("status").GetString() == "delivered=1"
            && gateway.AuditEvents().Count(c => RunningGateway.Is(c, "completed")) == 4);
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "success-reported"));
        Assert.DoesNotContain(Directory.GetFiles(_dumps).Select(File.ReadAllText), t => t.Contains("Successful Mail Delivery Report"));
    }
}
