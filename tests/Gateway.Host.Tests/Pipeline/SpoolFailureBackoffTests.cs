using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// A spool that fails under an entry (here: its envelope can no longer be saved, as on a failing
/// disk) is tried again with growing intervals, like delivery attempts, not at every FirstRetry
/// for ever: the worker's own backoff.
/// </summary>
public sealed class SpoolFailureBackoffTests : IAsyncLifetime
{
    private readonly GatewayWorld _world = new();
    private readonly ReservedPort _upstream = new(); // down: every attempt defers

    public Task InitializeAsync()
    {
        _world.RelayTo(_upstream.Port);
        _world.Settings["Gateway:Spool:FirstRetry"] = "00:00:01";
        _world.Settings["Gateway:Spool:MaxRetryInterval"] = "00:01:00";
        return Task.CompletedTask;
    }

    public async Task DisposeAsync()
    {
        await _upstream.DisposeAsync();
        _world.Dispose();
    }

    /// <summary>
    /// The first failure comes from the attempt that deferred (its save fails); after it, each turn
    /// fails at once, saving the state that attempt learned before anything else is tried.
    /// </summary>
    [Fact]
    public async Task AnEntryWhoseEnvelopeCannotBeSaved_IsTriedAgainAtGrowingIntervals()
    {
        var log = new CapturedLog();
        await using var gateway = await RunningGateway.StartAsync(_world, log.AddTo);
        var reply = await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "stuck"), "alice@example.test", "dave@elsewhere.test");
        var id = reply.Split(' ')[^1];
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred") && e.GetProperty("spoolId").GetString() == id);
        var envelope = Path.Combine(_world.SpoolPath, "incoming", id + ".json");
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!File.Exists(envelope) && DateTime.UtcNow < deadline) await Task.Delay(20);

        // The envelope's temporary name taken by a folder: every save of this entry fails now, for root too.
        Directory.CreateDirectory(envelope + ".tmp");
        List<DateTimeOffset> times = [];
        for (var waitUntil = DateTime.UtcNow.AddSeconds(60); times.Count < 5 && DateTime.UtcNow < waitUntil; await Task.Delay(200))
            times = log.Events(WorkerFailed).Where(e => e.Message.Contains(id, StringComparison.Ordinal)).Select(e => e.Time).ToList();

        // Backed off after 1, 2, 4, 8 s of failures (pauses of about 2, 3, 5, 9 s). At every FirstRetry
        // the pauses would stay alike (1, 1, 1 …). Compared with the shorter of the first two: on a
        // loaded machine one early pause can come out long (3.5, 3.0, 4.5 s in one full run).
        Assert.True(times.Count >= 5, $"{times.Count} failures after the fault");
        var gaps = times.Zip(times.Skip(1), (a, b) => b - a).ToList();
        var firstPause = gaps[0] < gaps[1] ? gaps[0] : gaps[1];
        Assert.True(gaps[^1] >= firstPause * 1.8, "pauses: " + string.Join(", ", gaps.Select(g => $"{g.TotalSeconds:F1} s")));
        Assert.True(File.Exists(envelope), "the entry is still queued");
    }

    /// <summary>SpoolWorkerService's "Worker failed on {Id}".</summary>
    private const int WorkerFailed = 5102;
}
