using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Gateway.Testing;
using Gateway.Testing.Smtp;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Smtp;

namespace Gateway.Tests.Durability;

/// <summary>
/// The gateway process out of file descriptors: SmtpServer accepted again at once after each
/// refused accept, a whole core spun, and the runtime, unable to open what it needed, aborted
/// ("Out of memory."; found with 1,100 idle connections under a 1,024 limit). Now it pauses
/// between tries, says so once, and serves again when descriptors come back.
/// </summary>
public sealed class OutOfDescriptorsTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task OutOfFileDescriptors_TheListenerPausesInsteadOfSpinning_AndServesAgainAfterwards()
    {
        var sink = await CapturingSmtpSink.StartAsync();
        var smtpPort = FreePort.Next();
        var settings = new Dictionary<string, string?>(_world.Settings)
        {
            ["Gateway:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:Host"] = "127.0.0.1",
            ["Gateway:Relay:Port"] = sink.Port.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:TlsMode"] = "None",
        };
        settings.Remove("Gateway:Relay:Outbox");
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);
        await using var gateway = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
        // Lower the running process's limit to a little above what it holds now.
        var open = Directory.GetFiles($"/proc/{gateway.ProcessId}/fd").Length;
        var limit = open + 40;
        var prlimit = await ToolProcess.RunAsync("prlimit", ["--pid", gateway.ProcessId.ToString(CultureInfo.InvariantCulture), $"--nofile={limit}:{limit}"]);
        Assert.True(prlimit.ExitCode == 0, prlimit.Stderr);

        var flood = new List<Socket>();
        try
        {
            for (var i = 0; i < 120; i++)
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(IPAddress.Loopback, smtpPort); // the kernel completes it into the backlog
                flood.Add(socket);
            }
            await Task.Delay(1000);
            var before = CpuTicks(gateway.ProcessId);
            var clock = Stopwatch.StartNew();
            await Task.Delay(3000);
            var share = (CpuTicks(gateway.ProcessId) - before) / (double)ClockTicksPerSecond / clock.Elapsed.TotalSeconds;

            Assert.False(gateway.HasExited, "the gateway died out of descriptors:\n" + gateway.Output);
            Assert.True(share < 0.5, $"the gateway used {share:P0} of a core while out of descriptors, doing nothing:\n{gateway.Output}");
            Assert.Contains("cannot accept connections", gateway.Output);
        }
        finally
        {
            flood.ForEach(s => s.Dispose());
        }

        // Descriptors come back as those connections end: a client is served again.
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(30);
        while (true)
        {
            try
            {
                await using var client = await RawSmtpClient.ConnectAsync(smtpPort);
                if ((await client.ReadReplyAsync())?.StartsWith("220", StringComparison.Ordinal) == true) break;
            }
            catch (Exception e) when (e is IOException or SocketException)
            {
            }
            Assert.True(DateTime.UtcNow < deadline, "the gateway never served again after the descriptors came back:\n" + gateway.Output);
            await Task.Delay(200);
        }
        Assert.Contains("accepts connections again", gateway.Output);
        await sink.DisposeAsync();
    }

    private const int ClockTicksPerSecond = 100; // USER_HZ on Linux

    /// <summary>utime + stime of the process, in clock ticks (/proc/PID/stat fields 14 and 15).</summary>
    private static long CpuTicks(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture);
    }
}
