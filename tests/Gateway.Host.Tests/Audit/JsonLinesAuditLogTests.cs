using System.Text.Json;
using Gateway.Audit;
using Gateway.Configuration;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

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

    [Fact]
    public async Task LogRenamedByLogrotate_NextLinesGoToANewFileAtThePath()
    {
        var path = Path.Combine(_folder, "audit.jsonl");
        var time = new FakeTimeProvider();
        var options = Options.Create(new GatewayOptions { Audit = new AuditOptions { Path = path } });
        await using var service = new JsonLinesAuditLog(options, time, NullLogger<JsonLinesAuditLog>.Instance);
        await service.WriteAsync(new AuditEvent("service") { SpoolId = "before" }, default);

        // logrotate's default (create): rename, then a new empty file where the old one was.
        File.Move(path, path + ".1");
        await File.WriteAllBytesAsync(path, []);
        time.Advance(TimeSpan.FromSeconds(5));
        await service.WriteAsync(new AuditEvent("service") { SpoolId = "after" }, default);
        // A command run now opens the new file too: the record is not split between the two.
        await using (var command = new JsonLinesAuditLog(options, time, NullLogger<JsonLinesAuditLog>.Instance))
            await command.WriteAsync(new AuditEvent("command") { SpoolId = "command" }, default);
        await service.WriteAsync(new AuditEvent("service") { SpoolId = "later" }, default);

        Assert.Equal(["before"], SpoolIds(path + ".1"));
        Assert.Equal(["after", "command", "later"], SpoolIds(path));
    }

    [Fact]
    public async Task LogDeleted_IsCreatedAgainAtThePath()
    {
        var path = Path.Combine(_folder, "audit.jsonl");
        var time = new FakeTimeProvider();
        await using var service = new JsonLinesAuditLog(
            Options.Create(new GatewayOptions { Audit = new AuditOptions { Path = path } }), time, NullLogger<JsonLinesAuditLog>.Instance);
        await service.WriteAsync(new AuditEvent("service") { SpoolId = "before" }, default);

        File.Delete(path); // an admin freeing the space: the old file's blocks go once Gateway lets it go
        time.Advance(TimeSpan.FromSeconds(5));
        await service.WriteAsync(new AuditEvent("service") { SpoolId = "after" }, default);

        Assert.Equal(["after"], SpoolIds(path));
    }

    [Fact]
    public async Task ClientTextOfAnyLength_IsCutShortWithAMarker_SoOneMessageCannotFillTheAuditDisk()
    {
        var path = Path.Combine(_folder, "audit.jsonl");
        await using var log = new JsonLinesAuditLog(
            Options.Create(new GatewayOptions { Audit = new AuditOptions { Path = path } }), TimeProvider.System, NullLogger<JsonLinesAuditLog>.Instance);
        // A Message-ID as long as a header may be, copied into the line of each of 1,000 recipients.
        var messageId = "<" + new string('m', 100_000) + "@attacker.test>";
        await log.WriteAsync(new AuditEvent("delivered")
        {
            MessageId = messageId, Sender = "mallory@attacker.test", Recipient = "bob@partner.test",
            Reply = "250 " + new string('r', 5_000), Reason = "From: " + new string('f', 50_000) + " is not owned",
        }, default);

        var line = (await File.ReadAllLinesAsync(path)).Single();
        Assert.True(line.Length < 10_000, $"one line of {line.Length} characters");
        var json = JsonDocument.Parse(line).RootElement;
        var cut = json.GetProperty("messageId").GetString()!;
        Assert.Equal(998, cut.Length);
        Assert.StartsWith("<mmm", cut);
        Assert.EndsWith("…(truncated)", cut);
        Assert.EndsWith("…(truncated)", json.GetProperty("reply").GetString());
        Assert.EndsWith("…(truncated)", json.GetProperty("reason").GetString());
        Assert.Equal("mallory@attacker.test", json.GetProperty("sender").GetString()); // short text stays as it was
    }

    private static List<string> SpoolIds(string path) =>
        File.ReadAllLines(path).Select(l => JsonDocument.Parse(l).RootElement.GetProperty("spoolId").GetString()!).ToList();
}
