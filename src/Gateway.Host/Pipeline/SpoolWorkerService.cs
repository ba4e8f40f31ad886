using System.Collections.Concurrent;
using Gateway.Configuration;
using Gateway.Spool;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Pipeline;

/// <summary>
/// Recovers the spool at start, then runs a bounded pool of workers over the ready queue, puts
/// deferred entries back on it when their next attempt is due, and answers wake-up requests from
/// <c>gateway queue</c>. On stop, workers take no new entry and the ones in flight get
/// Gateway:Spool:ShutdownTimeout to finish; whatever is left stays queued.
/// </summary>
public sealed partial class SpoolWorkerService(
    FileSpool spool,
    SpoolOwnership ownership,
    AcceptJournal journal,
    SpoolQueue queue,
    SpoolControl control,
    MessageProcessor processor,
    RetrySchedule retries,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<SpoolWorkerService> logger) : BackgroundService
{
    private static readonly TimeSpan ControlPoll = TimeSpan.FromSeconds(1);
    private readonly Scheduler _scheduler = new();
    private readonly ConcurrentDictionary<string, int> _spoolFailures = new(StringComparer.Ordinal);
    private readonly CancellationTokenSource _abortInFlight = new();
    private readonly SemaphoreSlim _controlSignal = new(0);
    private FileSystemWatcher? _watcher;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        // Before the listener answers anyone: recovery must see the spool as the last run left it.
        // The journal first: what it held unfinished becomes ordinary entries that Recover then finds.
        spool.EnsureFolders();
        // Recovery would delete what a live gateway on this spool is writing.
        if (!ownership.TryClaim()) throw new IOException(ownership.InUseMessage);
        var fromJournal = journal.Recover();
        if (fromJournal > 0) LogJournalRecovered(fromJournal);
        var ready = spool.Recover();
        var now = time.GetUtcNow();
        foreach (var id in ready)
        {
            var due = spool.TryLoad(id)?.NextAttempt;
            if (due is null || due <= now) queue.Enqueue(id);
            else _scheduler.Schedule(id, due.Value);
        }
        LogRecovered(ready.Count, spool.Root);
        _ = control.TakeRequests(); // recovery just read everything they could ask about
        try
        {
            // The watcher only makes requests quick; the poll in WatchControlAsync is what makes them certain.
            _watcher = new FileSystemWatcher(control.Folder, "*.wake") { EnableRaisingEvents = true };
            _watcher.Created += (_, _) => _controlSignal.Release();
            _watcher.Renamed += (_, _) => _controlSignal.Release();
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            _watcher = null;
        }
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        // In-flight attempts may finish within the shutdown timeout; after it they are cut and their
        // entries stay queued (the processor saves who already got the message first).
        var timeout = options.Value.Spool.ShutdownTimeout;
        LogStopping(timeout);
        _abortInFlight.CancelAfter(timeout);
        _watcher?.Dispose();
        await base.StopAsync(cancellationToken);
        // The listener stopped before this service (hosted services stop in reverse order), so
        // nothing new arrives: what still waits in the journal becomes ordinary entries.
        var moved = await journal.MoveWaitingToIncomingAsync(cancellationToken);
        if (moved > 0) LogJournalMovedAtStop(moved);
    }

    public override void Dispose()
    {
        _abortInFlight.Dispose();
        _watcher?.Dispose();
        base.Dispose();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var workers = Enumerable.Range(0, options.Value.Spool.EffectiveWorkers(options.Value.Relay)).Select(_ => Task.Run(() => WorkAsync(stoppingToken), CancellationToken.None));
        return Task.WhenAll(workers
            .Append(Task.Run(() => WakeDeferredAsync(stoppingToken), CancellationToken.None))
            .Append(Task.Run(() => WatchControlAsync(stoppingToken), CancellationToken.None)));
    }

    private async Task WorkAsync(CancellationToken stoppingToken)
    {
        var inFlight = _abortInFlight.Token;
        try
        {
            // stoppingToken ends the taking of new work; an attempt already started runs on with its own token.
            await foreach (var id in queue.Reader.ReadAllAsync(stoppingToken))
            {
                try
                {
                    var (next, locked) = await processor.ProcessAsync(id, inFlight);
                    // A copy of the id that found the entry locked (a wake-up and the scheduler both
                    // queued it) read nothing from the spool: the backoff stands.
                    if (!locked) _spoolFailures.TryRemove(id, out _);
                    if (next is not null) _scheduler.Schedule(id, next.Value);
                }
                catch (OperationCanceledException) when (inFlight.IsCancellationRequested)
                {
                    LogAbandoned(id);
                    return; // left in the spool; recovery picks it up at the next start
                }
                catch (Exception e)
                {
                    // The processor already defers on errors; reaching here means the spool itself
                    // failed (a bad sector under the message, an envelope that cannot be saved). Backed
                    // off like attempts, so a failing disk is not read every FirstRetry for ever.
                    var failures = _spoolFailures.AddOrUpdate(id, 1, (_, n) => n + 1);
                    var delay = retries.DelayAfter(failures);
                    LogWorkerFailure(e, id, failures, delay);
                    _scheduler.Schedule(id, time.GetUtcNow() + delay);
                }
                if (stoppingToken.IsCancellationRequested) return;
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
                foreach (var id in _scheduler.TakeDue(time.GetUtcNow())) queue.Enqueue(id);
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    private async Task WatchControlAsync(CancellationToken stoppingToken)
    {
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await _controlSignal.WaitAsync(ControlPoll, stoppingToken);
                foreach (var name in control.TakeRequests())
                {
                    var ids = name == SpoolControl.All ? FileSpool.EntryNames(spool.Incoming) : [name];
                    LogWoken(name, ids.Count);
                    foreach (var id in ids) queue.Enqueue(id);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(EventId = 5107, Level = LogLevel.Information, Message = "Accept journal: {Count} messages waiting for their first attempt moved to incoming/ for the next start")]
    private partial void LogJournalMovedAtStop(int count);

    [LoggerMessage(EventId = 5106, Level = LogLevel.Information, Message = "Accept journal: {Count} messages accepted before the last stop and not finished were moved to incoming/")]
    private partial void LogJournalRecovered(int count);

    [LoggerMessage(EventId = 5101, Level = LogLevel.Information, Message = "Spool {Path}: {Count} queued entries recovered")]
    private partial void LogRecovered(int count, string path);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Error, Message = "Worker failed on {Id} ({Failures} time(s) in a row); tried again in {Delay}")]
    private partial void LogWorkerFailure(Exception exception, string id, int failures, TimeSpan delay);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Information, Message = "Stopping: no new deliveries; attempts in flight get {Timeout} to finish")]
    private partial void LogStopping(TimeSpan timeout);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Attempt on {Id} cut by the shutdown timeout; it stays queued")]
    private partial void LogAbandoned(string id);

    [LoggerMessage(EventId = 5105, Level = LogLevel.Information, Message = "Queue control: {Name} woken (entries: {Count})")]
    private partial void LogWoken(string name, int count);
}
