using Gateway.Configuration;
using Gateway.Spool;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Pipeline;

/// <summary>
/// Recovers the spool at start, then runs a bounded pool of workers over the ready queue and
/// puts deferred entries back on it when their next attempt is due.
/// </summary>
public sealed partial class SpoolWorkerService(
    FileSpool spool,
    SpoolQueue queue,
    MessageProcessor processor,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SpoolWorkerService> logger) : BackgroundService
{
    private readonly PriorityQueue<string, DateTimeOffset> _deferred = new();
    private readonly Lock _deferredLock = new();

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the listener answers anyone: recovery must see the spool as the last run left it.
        var ready = spool.Recover();
        var now = time.GetUtcNow();
        foreach (var id in ready)
        {
            var due = spool.TryLoad(id)?.NextAttempt;
            if (due is null || due <= now) queue.Enqueue(id);
            else Schedule(id, due.Value);
        }
        LogRecovered(ready.Count, spool.Root);
        return base.StartAsync(cancellationToken);
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = Enumerable.Range(0, options.Value.Spool.Workers).Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None));
        return Task.WhenAll(workers.Append(Task.Run(() => WakeDeferredAsync(stoppingToken), CancellationToken.None)));
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var id in queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    var next = await processor.ProcessAsync(id, stoppingToken);
                    if (next is not null) Schedule(id, next.Value);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return; // left in the spool; recovery picks it up at the next start
                }
                catch (Exception e)
                {
                    // The processor already defers on errors; reaching here means the spool itself failed.
                    LogWorkerFailure(e, id);
                    Schedule(id, time.GetUtcNow() + options.Value.Spool.FirstRetry);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WakeDeferredAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await Task.Delay(TimeSpan.FromSeconds(1), time, stoppingToken);
                var now = time.GetUtcNow();
                lock (_deferredLock)
                {
                    while (_deferred.TryPeek(out var id, out var due) && due <= now)
                    {
                        _deferred.Dequeue();
                        queue.Enqueue(id);
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private void Schedule(string id, DateTimeOffset due)
    {
        lock (_deferredLock) _deferred.Enqueue(id, due);
    }

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Spool {Path}: {Count} queued entries recovered")]
    private partial void LogRecovered(int count, string path);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Error, Message = "Worker failed on {Id}; retried later")]
    private partial void LogWorkerFailure(Exception exception, string id);
}
