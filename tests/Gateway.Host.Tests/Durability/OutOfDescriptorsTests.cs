using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Testing;
using Gateway.Testing.Smtp;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Smtp;

namespace Gateway.Tests.Durability;

/// <summary>
/// A flood of connections against a process with few file descriptors: before Smtp:MaxConnections
/// (and its lowering to what the open-file limit holds), 1,100 idle connections took a process's
/// 1,024 descriptors; SmtpServer then accepted again at once after each refusal, spinning a core,
/// and the runtime, unable to start a thread, aborted ("Out of memory.").
/// </summary>
public sealed class OutOfDescriptorsTests : IDisposable
{
    private const int OpenFileLimit = 700;
    private const int Flood = 600;
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task AFloodOfConnections_IsCappedBelowTheOpenFileLimit_AndTheGatewayLivesAndServesAfterwards()
    {
        await using var sink = await CapturingSmtpSink.StartAsync();
        var smtpPort = FreePort.Next();
        var settings = new Dictionary<string, string?>(_world.Settings)
        {
            ["Gateway:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Smtp:MaxConnectionsPerClient"] = "5000", // the flood comes from one address
            ["Gateway:Relay:Host"] = "127.0.0.1",
            ["Gateway:Relay:Port"] = sink.Port.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:TlsMode"] = "None",
            // Delivery's own descriptors the same on any number of cores: 8 connections, 2 x 4 workers, 4 x 2 copies made at once.
            ["Gateway:Spool:Workers"] = "4",
            ["Gateway:Spool:MaxConcurrentTransforms"] = "2",
        };
        settings.Remove("Gateway:Relay:Outbox");
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);
        await using var gateway = await GatewayProcess.StartAsync(config, smtpPort, _world.Root, ["prlimit", $"--nofile={OpenFileLimit}:{OpenFileLimit}"]);

        var greeted = 0;
        var refused = 0;
        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < Flood; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { ReceiveTimeout = 10_000 };
                await socket.ConnectAsync(IPAddress.Loopback, smtpPort);
                flood.Add(socket);
                var buffer = new byte[256];
                var read = socket.Receive(buffer);
                var reply = Encoding.ASCII.GetString(buffer, 0, read);
                if (reply.StartsWith("220", StringComparison.Ordinal)) greeted++;
                else if (reply.StartsWith("421 4.3.2", StringComparison.Ordinal)) refused++;
            }

            var cap = (OpenFileLimit - 512 - (8 + 2 * 4 + 4 * 2)) / 1;
            Assert.False(gateway.HasExited, "the gateway died under the flood:\n" + gateway.Output);
            Assert.Equal(cap, greeted);
            Assert.Equal(Flood - cap, refused);
            Assert.Contains($"Gateway:Smtp:MaxConnections 1000 is lowered to {cap} per listener", gateway.Output);
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }

        // The flood gone, a client is served.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            await using (var client = await RawSmtpClient.ConnectAsync(smtpPort))
            {
                if ((await client.ReadReplyAsync())?.StartsWith("220", StringComparison.Ordinal) == true) break;
            }
            Assert.True(DateTime.UtcNow < deadline, "the gateway never served again after the flood:\n" + gateway.Output);
            await Task.Delay(200);
        }
    }

    [Fact]
    public async Task OnAHostWithManyCores_TheDefaultsFitAHardLimitOf1024_AndTheGatewayServes()
    {
        // docker run --ulimit nofile=1024:1024 on a 48-core host: the defaults derived from the cores
        // once asked for more descriptors than that, and the gateway refused to start.
        var smtpPort = FreePort.Next();
        var settings = new Dictionary<string, string?>(_world.Settings) { ["Gateway:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture) };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);

        await using var gateway = await GatewayProcess.StartAsync(config, smtpPort, _world.Root, ["env", "DOTNET_PROCESSOR_COUNT=48", "prlimit", "--nofile=1024:1024"]);

        await using var client = await RawSmtpClient.ConnectAsync(smtpPort);
        Assert.StartsWith("220", await client.ReadReplyAsync());
        Assert.False(gateway.HasExited, gateway.Output);
        Assert.DoesNotContain("cannot hold delivery", gateway.Output);
    }

    [Fact]
    public async Task DeliveryThatTheOpenFileLimitCannotHold_IsRefusedAtStart_NamingTheSettings()
    {
        // 256 upstream connections bring 256 workers: with their files and the copies being made, more than 1,024 - 512 descriptors.
        var settings = new Dictionary<string, string?>(_world.Settings) { ["Gateway:Relay:MaxConnections"] = "256" };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);

        var run = await ToolProcess.RunAsync("prlimit", ["--nofile=1024:1024", GatewayProcess.DotnetHost(), Path.Combine(AppContext.BaseDirectory, "gateway.dll"), "run", "--config", config],
            workingDirectory: _world.Root, timeout: TimeSpan.FromSeconds(30));

        Assert.Equal(1, run.ExitCode);
        Assert.Contains("error: the process may open 1024 files", run.Stderr);
        Assert.Contains("Gateway:Relay:MaxConnections 256", run.Stderr);
        Assert.Contains("Gateway:Spool:Workers 256", run.Stderr);
        Assert.Contains("Gateway:Spool:MaxConcurrentTransforms", run.Stderr);
    }
}
