using Gateway.Audit;
using Gateway.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Certificates;

/// <summary>
/// Reloads the local certificate folder when it changes, so that a partner's certificate or a
/// sender's identity dropped into it is used without a restart: a file-system watcher for speed,
/// and a comparison of the folder's file names, sizes, times and modes every
/// Certificates:ReloadCheckInterval for file systems that send no events. Events are debounced
/// (a PKCS#12 being copied is not judged half-written), and a folder already tried is not read
/// again until it changes, so a broken file is reported once, not at every check.
/// </summary>
public sealed partial class CertificateFolderWatcherService(
    LocalCertificateStore store,
    ICertificateDirectory directory,
    IAuditLog audit,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<CertificateFolderWatcherService> logger) : BackgroundService
{
    private static readonly TimeSpan Debounce = TimeSpan.FromSeconds(1);
    private readonly SemaphoreSlim _changed = new(0, 1);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        FileSystemWatcher? watcher = null;
        try
        {
            watcher = new FileSystemWatcher(store.FolderPath)
            {
                NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size | NotifyFilters.CreationTime | NotifyFilters.Attributes,
            };
            watcher.Changed += (_, _) => Signal();
            watcher.Created += (_, _) => Signal();
            watcher.Deleted += (_, _) => Signal();
            watcher.Renamed += (_, _) => Signal();
            watcher.Error += (_, e) => LogWatcherFailed(e.GetException());
            watcher.EnableRaisingEvents = true;
        }
        catch (Exception e) when (e is IOException or ArgumentException or PlatformNotSupportedException)
        {
            LogWatcherFailed(e); // the periodic check still runs
        }

        var tried = store.LoadedFingerprint;
        var interval = options.Value.Certificates.ReloadCheckInterval;
        using (watcher)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (await _changed.WaitAsync(interval, stoppingToken))
                    {
                        await Task.Delay(Debounce, time, stoppingToken);
                        if (_changed.CurrentCount > 0) _changed.Wait(0);
                    }
                    if (store.Fingerprint() == tried) continue;
                    var reload = store.Reload();
                    tried = reload.Fingerprint;
                    await ReportAsync(reload);
                }
                catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
                {
                    return;
                }
                catch (Exception e)
                {
                    // Reloading must never stop: the certificates in use stay, the next check tries again.
                    LogReloadFailed(e);
                }
            }
        }
    }

    private async Task ReportAsync(FolderReload reload)
    {
        if (reload.Taken)
        {
            // Choices made from the folder as it was must not outlive it by their minute.
            (directory as CachedCertificateDirectory)?.Clear();
            await audit.TryWriteAsync(new AuditEvent("certificates-reloaded")
            {
                Action = "reloaded", Reason = $"{store.FolderPath}: {reload.Signers} sender addresses with signing identities, {reload.Recipients} recipient addresses",
            });
        }
        else
        {
            await audit.TryWriteAsync(new AuditEvent("certificates-rejected")
            {
                Action = "kept the certificates read before", Reason = string.Join("; ", reload.Unreadable),
            });
        }
    }

    private void Signal()
    {
        try { _changed.Release(); } catch (SemaphoreFullException) { }
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Certificate folder watcher failed; the periodic check continues")]
    private partial void LogWatcherFailed(Exception exception);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "Certificate folder reload failed; the certificates in use stay")]
    private partial void LogReloadFailed(Exception exception);
}
