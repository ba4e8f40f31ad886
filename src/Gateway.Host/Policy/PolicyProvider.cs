using System.Security.Cryptography;
using Gateway.Audit;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Policy;

/// <summary>
/// Holds the current policy snapshot. Loaded at start, where a bad file stops Gateway with
/// file:line:column; reloaded when the file changes (<see cref="PolicyWatcherService"/>), where a
/// bad file keeps the last good snapshot. The swap is one reference write: a message being
/// processed keeps the snapshot it started with.
/// </summary>
public sealed partial class PolicyProvider
{
    private readonly ILogger<PolicyProvider> _logger;
    private readonly IAuditLog _audit;
    private readonly SemaphoreSlim _reloading = new(1, 1);
    private volatile LoadedPolicy? _current;
    private byte[]? _loadedHash;
    private byte[]? _rejectedHash;

    public PolicyProvider(IOptions<GatewayOptions> options, IAuditLog audit, ILogger<PolicyProvider> logger)
    {
        _logger = logger;
        _audit = audit;
        PolicyPath = options.Value.Policy.Path;
    }

    public string PolicyPath { get; }

    public PolicySnapshot Current => Loaded.Snapshot;

    /// <summary>The policy in force with its source, for messages that name its lines.</summary>
    public LoadedPolicy Loaded => _current ?? throw new InvalidOperationException("policy not loaded yet");

    /// <summary>The first load, at start: errors are returned to stop the start.</summary>
    public PolicyCompileResult Load()
    {
        var bytes = File.ReadAllBytes(PolicyPath);
        var result = Compile(bytes);
        if (result.Succeeded)
        {
            _current = new LoadedPolicy(result.Snapshot!, bytes);
            _loadedHash = SHA256.HashData(bytes);
            LogLoaded(PolicyPath, result.Snapshot!.Revision, result.Snapshot.Rules.Count);
        }
        return result;
    }

    /// <summary>Compiles the file if it changed since the last load (or the last rejection), and swaps or keeps.</summary>
    public async Task<PolicyCompileResult?> ReloadAsync(CancellationToken cancellationToken)
    {
        await _reloading.WaitAsync(cancellationToken);
        try
        {
            byte[] bytes;
            try
            {
                bytes = await File.ReadAllBytesAsync(PolicyPath, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Mid-save or deleted: nothing to judge yet; the periodic check looks again.
                return null;
            }
            var hash = SHA256.HashData(bytes);
            if (Same(hash, _rejectedHash)) return null;
            if (Same(hash, _loadedHash))
            {
                // The file is back to the policy in force (a bad edit undone): said once, as the
                // last line logged would otherwise still say the policy is not valid.
                if (_rejectedHash is not null) LogRestored(PolicyPath, _current?.Snapshot.Revision);
                _rejectedHash = null;
                return null;
            }

            var result = Compile(bytes);
            var kept = _current?.Snapshot.Revision;
            if (result.Succeeded)
            {
                _current = new LoadedPolicy(result.Snapshot!, bytes);
                _loadedHash = hash;
                _rejectedHash = null;
                LogLoaded(PolicyPath, result.Snapshot!.Revision, result.Snapshot.Rules.Count);
                await _audit.WriteAsync(new AuditEvent("policy-loaded")
                {
                    PolicyRevision = result.Snapshot.Revision,
                    Action = "reloaded",
                    Reason = $"{PolicyPath}: {Counted.Of(result.Snapshot.Rules.Count, "rule", "rules")}; replaces revision {kept}",
                }, cancellationToken);
            }
            else
            {
                _rejectedHash = hash;
                var errors = string.Join("; ", result.Errors);
                LogRejected(PolicyPath, kept, errors);
                await _audit.WriteAsync(new AuditEvent("policy-rejected")
                {
                    PolicyRevision = kept,
                    Action = "kept the last good policy",
                    Reason = errors,
                }, cancellationToken);
            }
            return result;
        }
        finally
        {
            _reloading.Release();
        }
    }

    /// <summary>
    /// The compiler answers bad input with errors; should it ever throw instead (a bug), the file is
    /// still rejected like any bad edit: audited, the last good policy kept, and not compiled again
    /// until it changes, rather than an error logged on every periodic check.
    /// </summary>
    private PolicyCompileResult Compile(byte[] bytes)
    {
        try
        {
            return PolicyCompiler.Compile(bytes, PolicyPath);
        }
        catch (Exception e)
        {
            return new PolicyCompileResult(null, [new PolicyError(PolicyPath, 1, 1, $"the policy could not be compiled ({e.GetType().Name}: {e.Message}); this is a Gateway bug, please report it with the file")]);
        }
    }

    private static bool Same(byte[] a, byte[]? b) => b is not null && a.AsSpan().SequenceEqual(b);

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Policy {Path} revision {Revision} loaded (rules: {Rules})")]
    private partial void LogLoaded(string path, string revision, int rules);

    [LoggerMessage(EventId = 3002, Level = LogLevel.Error, Message = "Policy {Path} changed but is not valid; revision {Kept} stays in force: {Errors}")]
    private partial void LogRejected(string path, string? kept, string errors);

    [LoggerMessage(EventId = 3007, Level = LogLevel.Information, Message = "Policy {Path} is back to revision {Revision}, the policy in force; the rejected edit is gone")]
    private partial void LogRestored(string path, string? revision);
}
