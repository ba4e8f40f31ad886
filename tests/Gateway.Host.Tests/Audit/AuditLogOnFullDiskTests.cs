using System.Text.Json;
using Gateway.Audit;
using Gateway.Configuration;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Audit;

/// <summary>
/// The audit log on a 16 KiB tmpfs filled up by another file: on ENOSPC the kernel writes what fits
/// of a line and leaves the file mid-line. Mounting needs root (CAP_SYS_ADMIN); without it the test
/// fails and says so.
/// </summary>
public sealed class AuditLogOnFullDiskTests : IAsyncLifetime
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-audit-full-").FullName;
    private bool _mounted;

    public async Task InitializeAsync()
    {
        var mount = await ToolProcess.RunAsync("mount", ["-t", "tmpfs", "-o", "size=16k", "tmpfs", _folder]);
        Assert.True(mount.ExitCode == 0,
            $"mount -t tmpfs -o size=16k tmpfs {_folder} failed (exit {mount.ExitCode}): {mount.Stderr.Trim()}. " +
            "This test needs root (CAP_SYS_ADMIN) to mount a tiny tmpfs; run the suite as root, as CI does.");
        _mounted = true;
    }

    public async Task DisposeAsync()
    {
        if (_mounted) await ToolProcess.RunAsync("umount", ["-l", _folder]);
        Directory.Delete(_folder, recursive: true);
    }

    [Fact]
    public async Task LineTornByAFullDisk_DoesNotSwallowTheNextLine_EveryLineReportedWrittenParses()
    {
        var path = Path.Combine(_folder, "audit.jsonl");
        var filler = Path.Combine(_folder, "filler");
        await using var log = new JsonLinesAuditLog(
            Options.Create(new GatewayOptions { Audit = new AuditOptions { Path = path } }), TimeProvider.System, NullLogger<JsonLinesAuditLog>.Instance);
        var written = new List<string>();
        async Task<bool> TryWriteAsync(string id)
        {
            try
            {
                // ~1 KB lines, so one of them crosses into a page the full disk cannot give.
                await log.WriteAsync(new AuditEvent("test") { SpoolId = id, Reason = new string('r', 1000) }, default);
                written.Add(id);
                return true;
            }
            catch (IOException)
            {
                return false;
            }
        }

        Assert.True(await TryWriteAsync("first"));
        // The rest of the disk goes to another file, as a spool or a core dump would take it.
        try
        {
            await using var fill = new FileStream(filler, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1);
            while (true) fill.Write(new byte[4096]);
        }
        catch (IOException)
        {
        }

        var i = 0;
        while (await TryWriteAsync($"before-full-{i}")) i++;
        Assert.True(i < 10, "the disk never filled up");
        var afterFailure = File.ReadAllBytes(path);
        Assert.True(afterFailure[^1] != (byte)'\n', "the failed write left no part of its line: nothing torn to test with");

        File.Delete(filler); // space comes back
        Assert.True(await TryWriteAsync("after-space-freed"));
        Assert.True(await TryWriteAsync("one-more"));

        var parsed = new HashSet<string>();
        foreach (var line in await File.ReadAllLinesAsync(path))
        {
            try
            {
                parsed.Add(JsonDocument.Parse(line).RootElement.GetProperty("spoolId").GetString()!);
            }
            catch (JsonException)
            {
                // The torn line itself: never reported written.
            }
        }
        Assert.Equal(written, written.Where(parsed.Contains));
    }
}
