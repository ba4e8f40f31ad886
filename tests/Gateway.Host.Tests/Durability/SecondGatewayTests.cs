using System.Globalization;
using Gateway.Cli;
using Gateway.Spool;
using Gateway.Tests.Cli;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Hosting;

namespace Gateway.Tests.Durability;

/// <summary>
/// A second <c>gateway run</c> on the spool a gateway is using (a second unit, a start by hand
/// with the same settings). What a live gateway is writing looks to recovery like what a crash
/// left: a large message's content before its envelope, its temporary envelope, its work files.
/// The second one must refuse to start before its recovery touches any of it.
/// </summary>
public sealed class SecondGatewayTests : IAsyncLifetime
{
    private readonly GatewayWorld _world = new();
    private RunningGateway _first = null!;

    public async Task InitializeAsync() => _first = await RunningGateway.StartAsync(_world);

    public async Task DisposeAsync()
    {
        await _first.DisposeAsync();
        _world.Dispose();
    }

    /// <summary>The first gateway in the middle of accepting a message into its own files: content written and being fsynced, the envelope still under its temporary name; and a work file.</summary>
    private async Task<string[]> FilesOfAnAcceptInProgressAsync()
    {
        var id = SpoolId.New(DateTimeOffset.UtcNow);
        var accepting = new[]
        {
            Path.Combine(_world.SpoolPath, "incoming", id + ".eml"),
            Path.Combine(_world.SpoolPath, "incoming", id + ".json.tmp"),
            Path.Combine(_world.SpoolPath, "work", id + "-1-copy.eml"),
        };
        foreach (var file in accepting) await File.WriteAllTextAsync(file, "Subject: being accepted\r\n\r\nbody\r\n");
        return accepting;
    }

    [Fact]
    public async Task SecondGatewayOnASpoolInUse_RefusesToStartNamingTheSpool_AndLeavesTheFirstOnesFilesAlone()
    {
        var accepting = await FilesOfAnAcceptInProgressAsync();
        // The same settings, port included, as a second unit started by mistake would have.
        var settings = new Dictionary<string, string?>(_world.Settings) { ["Gateway:Smtp:Port"] = _first.Port.ToString(CultureInfo.InvariantCulture) };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);

        var second = await GatewayCli.RunAsync(_world.Root, "run", "--config", config);

        Assert.Equal(1, second.ExitCode);
        Assert.Contains($"the spool {_world.SpoolPath} is in use by another running gateway", second.Error);
        foreach (var file in accepting) Assert.True(File.Exists(file), $"the second gateway deleted {file}, which the first one is writing\n{second}");

        // The queue tools are not gateways: they still work beside the running one.
        var list = await GatewayCli.RunAsync(_world.Root, "queue", "list", "--config", config);
        Assert.True(list.ExitCode == 0, list.ToString());
    }

    /// <summary>A host started in process (a test, an embedding), not through <c>gateway run</c>: the spool's service itself refuses, before its recovery.</summary>
    [Fact]
    public async Task SecondHostOnASpoolInUse_FailsToStart_BeforeItsRecoveryDeletesAnything()
    {
        var accepting = await FilesOfAnAcceptInProgressAsync();
        using var second = GatewayHostFactory.Build(configPath: null, c => c.AddInMemoryCollection(_world.Settings));

        var refused = await Assert.ThrowsAsync<IOException>(() => second.StartAsync());

        Assert.Contains($"the spool {_world.SpoolPath} is in use by another running gateway", refused.Message);
        foreach (var file in accepting) Assert.True(File.Exists(file), $"the second host deleted {file}, which the first gateway is writing");
    }
}
