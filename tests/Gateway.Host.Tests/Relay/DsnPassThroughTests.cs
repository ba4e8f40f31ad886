using Gateway.Testing;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Relay;

/// <summary>
/// The client's ENVID and RET reach an upstream that offers DSN (Postfix's smtp-sink, which
/// records the MAIL parameters it got as X-Mail-Args in each dumped message).
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

    [Fact]
    public async Task EnvidAndRet_FromTheClient_ArePassedToAnUpstreamThatOffersDsn()
    {
        _world.RelayTo(_port);
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendRawAsync("dave@other.test", "frank@elsewhere.test", "with-dsn", "RET=HDRS ENVID=gw-env-1");
        await gateway.SendRawAsync("dave@other.test", "frank@elsewhere.test", "without-dsn", "");

        // smtp-sink creates each dump file first and fills it as the message arrives: wait for both bodies.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        List<string> texts = [];
        while (DateTime.UtcNow < deadline)
        {
            texts = Directory.GetFiles(_dumps).Select(File.ReadAllText).ToList();
            if (texts.Count(t => t.Contains("secret body of with", StringComparison.Ordinal)) == 2) break;
            await Task.Delay(100);
        }
        var withDsn = Assert.Single(texts, t => t.Contains("Subject: with-dsn"));
        var withoutDsn = Assert.Single(texts, t => t.Contains("Subject: without-dsn"));
        var mailArgs = withDsn.Split('\n').First(l => l.StartsWith("X-Mail-Args:", StringComparison.Ordinal));
        Assert.Contains("ENVID=gw-env-1", mailArgs);
        Assert.Contains("RET=HDRS", mailArgs);
        Assert.DoesNotContain("ENVID", withoutDsn.Split('\n').First(l => l.StartsWith("X-Mail-Args:", StringComparison.Ordinal)));
    }
}
