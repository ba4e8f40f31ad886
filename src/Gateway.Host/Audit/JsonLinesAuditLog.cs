using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Audit;

/// <summary>
/// Appends one JSON object per line. Lines are flushed to the OS before WriteAsync returns, so a
/// killed process loses none; they are not fsynced one by one (the spool is the durable record,
/// the audit its account). The file is opened with O_APPEND and each line is one write(), so
/// <c>gateway queue</c> can add its lines while the gateway runs: .NET's FileMode.Append keeps its
/// own offset and would write over the other process's lines.
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

    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly SafeFileHandle _file;
    private readonly TimeProvider _time;

    public JsonLinesAuditLog(IOptions<GatewayOptions> options, TimeProvider time)
    {
        _time = time;
        var path = Path.GetFullPath(options.Value.Audit.Path);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        _file = OpenForAppend(path);
        FilePath = path;
    }

    public string FilePath { get; }

    public async ValueTask WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        var stamped = auditEvent.Time == default ? auditEvent with { Time = _time.GetUtcNow() } : auditEvent;
        var json = JsonSerializer.SerializeToUtf8Bytes(stamped, Options);
        var line = new byte[json.Length + 1];
        json.CopyTo(line, 0);
        line[^1] = (byte)'\n';
        await _gate.WaitAsync(CancellationToken.None);
        try
        {
            // With O_APPEND the kernel writes at the end whatever offset is given.
            await RandomAccess.WriteAsync(_file, line, 0, CancellationToken.None);
        }
        finally
        {
            _gate.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _file.Dispose();
        _gate.Dispose();
        return ValueTask.CompletedTask;
    }

    private static SafeFileHandle OpenForAppend(string path)
    {
        if (!OperatingSystem.IsLinux())
            return File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        const int WriteOnly = 0x1, Create = 0x40, Append = 0x400, CloseOnExec = 0x80000; // Linux open(2) flags
        var fd = Open(path, WriteOnly | Create | Append | CloseOnExec, 0b110_100_000 /* 0640 */);
        if (fd < 0) throw new IOException($"cannot open audit log {path} (errno {Marshal.GetLastPInvokeError()})");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags, int mode);
}
