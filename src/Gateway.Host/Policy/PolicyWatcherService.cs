using Gateway.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Policy;

/// <summary>
/// Reloads the policy when its file changes: a file-system watcher on the folder for speed, and
/// a periodic comparison of the file's hash as the fallback for file systems that send no
/// events (NFS, some container mounts). Events are debounced, because editors save in several
/// writes (truncate, write, rename), and a half-written file must not be judged.
/// </summary>
public sealed partial class PolicyWatcherService(
    PolicyProvider provider,
    SigningIdentityWarnings warnings,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<PolicyWatcherService> logger) : BackgroundService
{
    private static readonly TimeSpan Debounce = TimeSpan.FromMilliseconds(300);
    private readonly SemaphoreSlim _changed = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var path = Path.GetFullPath(provider.PolicyPath);
        using var watcher = new FileSystemWatcher(Path.GetDirectoryName(path)!, Path.GetFileName(path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime,
        };
        watcher.Changed += (_, _) => Signal();
        watcher.Created += (_, _) => Signal();
        watcher.Renamed += (_, _) => Signal();
        watcher.Error += (_, e) => LogWatcherFailed(e.GetException());
        watcher.EnableRaisingEvents = true;

        var interval = options.Value.Policy.ReloadCheckInterval;
        await warnings.ReportAsync("start", stoppingToken);
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                if (await _changed.WaitAsync(interval, stoppingToken))
                {
                    // Let the editor finish; events arriving meanwhile are folded into this reload.
                    await Task.Delay(Debounce, time, stoppingToken);
                    if (_changed.CurrentCount > 0) _changed.Wait(0);
                }
                var before = provider.Current.Revision;
                try
                {
                    await provider.ReloadAsync(stoppingToken);
                }
                finally
                {
                    // Also when the reload's audit line failed after the new policy was taken.
                    if (provider.Current.Revision != before) await warnings.ReportAsync("policy reload", stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Reloading must never stop: the last good policy stays, the next check tries again.
                LogReloadFailed(e);
            }
        }
    }

    private void Signal()
    {
        try { _changed.Release(); } catch (SemaphoreFullException) { }
    }

    [LoggerMessage(EventId = 3003, Level = LogLevel.Warning, Message = "Policy file watcher failed; the periodic check continues")]
    private partial void LogWatcherFailed(Exception exception);

    [LoggerMessage(EventId = 3004, Level = LogLevel.Error, Message = "Policy reload failed; the last good policy stays")]
    private partial void LogReloadFailed(Exception exception);
}
