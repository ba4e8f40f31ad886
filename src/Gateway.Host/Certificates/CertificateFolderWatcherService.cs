using Gateway.Audit;
using Gateway.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Certificates;

/// <summary>
/// Reloads the local certificate folder when it changes, so that a partner's certificate or a
/// sender's identity dropped into it is used without a restart: a file-system watcher for speed,
/// and a comparison of a hash of the folder's certificate and key files every
/// Certificates:ReloadCheckInterval for file systems that send no events (and symlinked mounts).
/// Events are debounced until the folder is quiet (a PKCS#12 being copied is not judged
/// half-written). A folder that was refused is read again at every check, and its problems are
/// reported when they change, not at every check.
/// </summary>
public sealed partial class CertificateFolderWatcherService(
    LocalCertificateStore store,
    CachedCertificateDirectory directory,
    Policy.SigningIdentityWarnings warnings,
    IAuditLog audit,
    IOptions<GatewayOptions> options,
    ILogger<CertificateFolderWatcherService> logger) : BackgroundService
{
    private static readonly TimeSpan Debounce = TimeSpan.FromSeconds(1);
    private const int MaxDebounces = 30;
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
        var refused = ""; // the problems last reported, so that a broken folder is reported once
        var interval = options.Value.Certificates.ReloadCheckInterval;
        using (watcher)
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                try
                {
                    if (await _changed.WaitAsync(interval, stoppingToken))
                    {
                        // Until the folder has been quiet for a moment: a large copy sends many events.
                        for (var i = 0; i < MaxDebounces && await _changed.WaitAsync(Debounce, stoppingToken); i++) { }
                    }
                    // A refused folder is read again at every check, whatever changed (a password file, an owner).
                    var fingerprint = store.Fingerprint();
                    if (refused.Length == 0 && fingerprint == tried) continue;
                    var reload = store.Reload(fingerprint);
                    tried = reload.Fingerprint;
                    refused = await ReportAsync(reload, refused);
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

    /// <returns>The problems now reported ("" when the folder was taken).</returns>
    private async Task<string> ReportAsync(FolderReload reload, string reportedBefore)
    {
        if (reload.Taken)
        {
            // Unchanged, and nothing refused before: nothing to say. After a refusal it is said, so an alert on it can clear.
            if (!reload.Changed && reportedBefore.Length == 0) return "";
            // Choices made from the folder as it was must not outlive it by their minute.
            directory.Clear();
            await audit.TryWriteAsync(new AuditEvent("certificates-reloaded")
            {
                Action = "reloaded", Reason = $"{store.FolderPath}: {Counted.Of(reload.Signers, "sender address", "sender addresses")} with a signing identity, {Counted.Of(reload.Recipients, "recipient address", "recipient addresses")}",
            });
            // An identity taken out may leave a sign-always rule with nobody to sign.
            await warnings.ReportAsync("certificate folder reload", CancellationToken.None);
            return "";
        }
        var problems = string.Join("; ", reload.Unreadable);
        if (problems == reportedBefore) return problems;
        LogReloadRefused(store.FolderPath, problems);
        await audit.TryWriteAsync(new AuditEvent("certificates-rejected")
        {
            Action = "kept the certificates read before", Reason = problems,
        });
        return problems;
    }

    private void Signal()
    {
        // An event may still come in while the service is disposed at the stop.
        try { _changed.Release(); } catch (Exception e) when (e is SemaphoreFullException or ObjectDisposedException) { }
    }

    public override void Dispose()
    {
        _changed.Dispose();
        base.Dispose();
    }

    [LoggerMessage(EventId = 4004, Level = LogLevel.Error, Message = "Certificate store {Path} not reloaded, the certificates read before stay: {Problems}")]
    private partial void LogReloadRefused(string path, string problems);

    [LoggerMessage(EventId = 4005, Level = LogLevel.Warning, Message = "Certificate folder watcher failed; the periodic check continues")]
    private partial void LogWatcherFailed(Exception exception);

    [LoggerMessage(EventId = 4006, Level = LogLevel.Error, Message = "Certificate folder reload failed; the certificates in use stay")]
    private partial void LogReloadFailed(Exception exception);
}
