using System.Text.Json;
using Gateway.Audit;
using Gateway.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Audit;

/// <summary>The audit file is shared by the service and the admin commands: no line may be lost or torn.</summary>
public sealed class JsonLinesAuditLogTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-audit-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public async Task TwoWritersOnOneFile_KeepEveryLineWhole()
    {
        var options = Options.Create(new GatewayOptions { Audit = new AuditOptions { Path = Path.Combine(_folder, "audit.jsonl") } });
        // Two instances stand for two processes: each has its own file description.
        await using var service = new JsonLinesAuditLog(options, TimeProvider.System, NullLogger<JsonLinesAuditLog>.Instance);
        await using var command = new JsonLinesAuditLog(options, TimeProvider.System, NullLogger<JsonLinesAuditLog>.Instance);
        await Task.WhenAll(
            Task.Run(async () => { for (var i = 0; i < 500; i++) await service.WriteAsync(new AuditEvent("service") { SpoolId = $"s{i}" }, default); }),
            Task.Run(async () => { for (var i = 0; i < 500; i++) await command.WriteAsync(new AuditEvent("command") { SpoolId = $"c{i}" }, default); }));

        var lines = await File.ReadAllLinesAsync(options.Value.Audit.Path);
        Assert.Equal(1000, lines.Length);
        var ids = lines.Select(l => JsonDocument.Parse(l).RootElement.GetProperty("spoolId").GetString()).ToHashSet();
        Assert.Equal(1000, ids.Count);
    }
}
