using System.Diagnostics;
using Gateway.Tests.Fixtures;
using Xunit.Abstractions;

namespace Gateway.Tests.Relay;

/// <summary>
/// The upstream is down while a burst arrives: every message is acknowledged and deferred, and
/// when the upstream comes back all of them are delivered, each exactly once.
/// </summary>
public sealed class UpstreamOutageTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const int Messages = 50;
    private const string Dave = "dave@other.test";
    private const string Frank = "frank@elsewhere.test";
    private readonly GatewayWorld _world = new();
    private readonly ReservedPort _upstream = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _world.Dispose();
    }

    [Fact]
    public async Task UpstreamDownDuringABurstOf50_ThenUp_All50AreDeliveredExactlyOnce()
    {
        _world.RelayTo(_upstream.Port);
        _world.Settings["Gateway:Relay:Timeout"] = "00:00:05";
        await using var gateway = await RunningGateway.StartAsync(_world);

        var clock = Stopwatch.StartNew();
        await Task.WhenAll(Enumerable.Range(0, 5).Select(c => Task.Run(async () =>
        {
            for (var m = 0; m < Messages / 5; m++)
                await gateway.SendAsync(RunningGateway.NewMessage(Dave, Frank, $"outage-{c}-{m:D2}"), Dave, Frank);
        })));
        var accepted = clock.Elapsed;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
        while (gateway.AuditEvents().Count(e => RunningGateway.Is(e, "deferred")) < Messages && DateTime.UtcNow < deadline) await Task.Delay(100);
        var deferred = gateway.AuditEvents().Count(e => RunningGateway.Is(e, "deferred"));
        Assert.True(deferred >= Messages, $"only {deferred} deferrals while the upstream was down");

        var sink = await _upstream.StartSinkAsync();
        var up = Stopwatch.StartNew();
        await sink.WaitForMessagesAsync(Messages, TimeSpan.FromSeconds(60));
        var drained = up.Elapsed;
        deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (Directory.GetFiles(Path.Combine(_world.SpoolPath, "incoming"), "*.json").Length > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Task.Delay(TimeSpan.FromSeconds(1)); // a late duplicate would arrive here

        var subjects = sink.Messages.GroupBy(m => m.Parse().Subject).ToDictionary(g => g.Key ?? "", g => g.Count());
        output.WriteLine($"burst of {Messages} accepted in {accepted.TotalSeconds:0.0} s with the upstream down; {deferred} deferrals; " +
                         $"after the upstream came up all were delivered in {drained.TotalSeconds:0.0} s over {sink.Sessions} connections; " +
                         $"distinct {subjects.Count}, duplicates {subjects.Values.Sum(n => n - 1)}");
        Assert.Equal(Messages, subjects.Count);
        Assert.All(subjects.Values, n => Assert.Equal(1, n));
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "incoming")));
    }
}
