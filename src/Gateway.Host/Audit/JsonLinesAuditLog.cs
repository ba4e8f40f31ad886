using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Audit;

/// <summary>
/// Appends one JSON object per line. Lines are flushed to the OS before WriteAsync returns, so a
/// killed process loses none; they are not fsynced one by one (the spool is the durable record,
/// the audit its account). The file is opened with O_APPEND and each line is one write(), so
/// <c>gateway queue</c> can add its lines while the gateway runs: .NET's FileMode.Append keeps its
/// own offset and would write over the other process's lines. A log rotated away (renamed, as
/// logrotate's default does, or deleted) is let go and the path opened again, checked once a
/// second at most (two statx calls): several lines are written per message.
/// </summary>
public sealed partial class JsonLinesAuditLog : IAuditLog, IAsyncDisposable
{
    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        // Readable addresses and Message-IDs for admins and SIEMs; JSON stays valid without HTML escaping.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private static readonly ReadOnlyMemory<byte> NewLine = "\n"u8.ToArray();
    private readonly SemaphoreSlim _gate = new(1, 1);
    private static readonly TimeSpan RotationCheckInterval = TimeSpan.FromSeconds(1);
    private Microsoft.Win32.SafeHandles.SafeFileHandle _file;
    private long _rotationCheckedAt;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;

    // Set under _gate when a write failed: on ENOSPC the kernel writes what fits, so the file may
    // end mid-line, and the next line would be glued onto that fragment and parse for no reader.
    private bool _mayEndMidLine;

    public JsonLinesAuditLog(IOptions<GatewayOptions> options, TimeProvider time, ILogger<JsonLinesAuditLog> logger)
    {
        _time = time;
        _logger = logger;
        var path = Path.GetFullPath(options.Value.Audit.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _file = AppendOnlyFile.Open(path);
        _rotationCheckedAt = time.GetTimestamp();
        FilePath = path;
    }

    public string FilePath { get; }

    public async ValueTask WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        var capped = AuditFieldCap.Apply(auditEvent);
        var stamped = capped.Time == default ? capped with { Time = _time.GetUtcNow() } : capped;
        var line = JsonSerializer.SerializeToUtf8Bytes(stamped, Options);
        // Waiting asynchronously: on a stalled disk only the writer blocks a thread, not every
        // session with a line to write.
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            ReopenIfRotated();
            // Straight to the kernel: a killed process loses no line it reported written. After a
            // failure the line starts on a line of its own; at worst that leaves one empty line.
            AppendOnlyFile.Write(_file, _mayEndMidLine ? [NewLine, line, NewLine] : [line, NewLine]);
            _mayEndMidLine = false;
        }
        catch (Exception e)
        {
            _mayEndMidLine = true;
            // Said here once for every caller, those that go on without the line included.
            if (e is IOException or UnauthorizedAccessException) LogWriteFailed(e, FilePath, stamped.Event);
            throw;
        }
        finally
        {
            _gate.Release();
        }
    }

    private void ReopenIfRotated()
    {
        if (_time.GetElapsedTime(_rotationCheckedAt) < RotationCheckInterval) return;
        _rotationCheckedAt = _time.GetTimestamp();
        if (AppendOnlyFile.IsStillAt(_file, FilePath)) return;
        Microsoft.Win32.SafeHandles.SafeFileHandle reopened;
        try
        {
            reopened = AppendOnlyFile.Open(FilePath);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // The renamed file still keeps the record: better there than no line (and no mail).
            LogReopenFailed(e, FilePath);
            return;
        }
        _file.Dispose();
        _file = reopened;
        _mayEndMidLine = false; // a new file starts at a line's start
        LogReopened(FilePath);
    }

    [LoggerMessage(EventId = 8002, Level = LogLevel.Information, Message = "Audit log {Path} was rotated or deleted: opened again")]
    private partial void LogReopened(string path);

    [LoggerMessage(EventId = 8003, Level = LogLevel.Warning, Message = "Audit log {Path} was rotated or deleted but cannot be opened again: lines go on to the file open until then")]
    private partial void LogReopenFailed(Exception exception, string path);

    [LoggerMessage(EventId = 8001, Level = LogLevel.Error, Message = "Audit log {Path}: a '{Event}' line could not be written")]
    private partial void LogWriteFailed(Exception exception, string path, string @event);

    public ValueTask DisposeAsync()
    {
        _file.Dispose();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }
}
