using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Durability;

/// <summary>
/// A queued entry whose content file is gone (deleted by hand, lost with a disk) cannot be sent:
/// its recipients fail, the sender gets a report, and the envelope is moved to corrupt/ for the
/// admin, instead of failing at every retry for ever.
/// </summary>
public sealed class MissingContentTests : IAsyncDisposable
{
    private readonly GatewayWorld _world = new();
    private readonly ReservedPort _upstream = new(); // bound, never listening: every attempt defers

    public async ValueTask DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _world.Dispose();
    }

    [Fact]
    public async Task DeferredEntryWhoseContentVanished_FailsWithAReportToTheSender_AndIsKeptInCorrupt()
    {
        _world.Settings["Gateway:Spool:Journal"] = "false"; // its own files from the start
        _world.RelayTo(_upstream.Port);
        await using var gateway = await RunningGateway.StartAsync(_world);
        var reply = await gateway.SendAsync(RunningGateway.NewMessage("dave@other.test", "erin@elsewhere.test", "vanishing"), "dave@other.test", "erin@elsewhere.test");
        var id = reply.Split(' ')[^1];
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", "erin@elsewhere.test"));

        File.Delete(Path.Combine(_world.SpoolPath, "incoming", id + ".eml"));

        var corrupt = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "corrupt"));
        Assert.Equal(id, corrupt.GetProperty("spoolId").GetString());
        Assert.Equal(["erin@elsewhere.test"], corrupt.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
        // Moved after the report is queued and audited ('bounced', the last line before the move).
        var bounced = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "bounced", "dave@other.test"));
        var kept = Path.Combine(_world.SpoolPath, "corrupt", id + ".json");
        for (var wait = 0; wait < 400 && !File.Exists(kept); wait++) await Task.Delay(50);
        Assert.True(File.Exists(kept));
        Assert.False(File.Exists(Path.Combine(_world.SpoolPath, "incoming", id + ".json")));
        Assert.Contains("\"status\": \"failed\"", File.ReadAllText(kept), StringComparison.OrdinalIgnoreCase);

        var failed = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "failed", "erin@elsewhere.test"));
        Assert.StartsWith("550 5.3.0", failed.GetProperty("reply").GetString());
        var report = SpooledMessages.Find(_world.SpoolPath, bounced.GetProperty("status").GetString()!);
        Assert.Contains("Final-Recipient: rfc822; erin@elsewhere.test", report.Text);
        Assert.Contains("Status: 5.3.0", report.Text);
        var human = MimeKit.MimeMessage.Load(new MemoryStream(report.Content)).TextBody;
        Assert.Contains("please send it again", human!.ReplaceLineEndings(" "));
    }
}
