using System.Diagnostics;
using System.Net.Sockets;
using Gateway.Testing;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Cli;

/// <summary>The real executable: help, configuration from file and environment, a clear refusal to start, a clean stop.</summary>
public sealed class GatewayProcessTests : IDisposable
{
    private static readonly string GatewayDll = Path.Combine(AppContext.BaseDirectory, "gateway.dll");
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private string WriteConfig() =>
        Configuration.SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings.Where(s => s.Key != "Gateway:Smtp:Port").ToDictionary());

    private static ProcessStartInfo Start(params string[] arguments)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardError = true, RedirectStandardOutput = true };
        info.ArgumentList.Add(GatewayDll);
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        return info;
    }

    [Fact]
    public async Task Help_ListsTheVerbs()
    {
        using var process = Process.Start(Start("--help"))!;
        var output = await process.StandardOutput.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(0, process.ExitCode);
        Assert.Contains("run", output);
        Assert.Contains("policy", output);
    }

    [Fact]
    public async Task InvalidSettingFromTheEnvironment_StopsTheStart_NamingTheKey()
    {
        var info = Start("run", "--config", WriteConfig());
        info.Environment["Gateway__Smtp__AllowedNetworks__0"] = "not-a-network";
        using var process = Process.Start(info)!;
        var error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(1, process.ExitCode);
        Assert.Contains("Gateway:Smtp:AllowedNetworks: 'not-a-network' is not a CIDR network", error);
    }

    [Fact]
    public async Task PortFromTheEnvironment_IsUsed_AndSigtermStopsTheGatewayCleanly()
    {
        var port = FreePort.Next();
        var info = Start("run", "--config", WriteConfig());
        info.Environment["Gateway__Smtp__Port"] = port.ToString();
        using var process = Process.Start(info)!;
        try
        {
            await WaitForPortAsync(port, TimeSpan.FromSeconds(30));
            Assert.Equal(0, Kill(process.Id, 15)); // SIGTERM
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            Assert.Equal(0, process.ExitCode);
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }

    private static async Task WaitForPortAsync(int port, TimeSpan timeout)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (DateTime.UtcNow < deadline)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync("127.0.0.1", port);
                return;
            }
            catch (SocketException)
            {
                await Task.Delay(100);
            }
        }
        throw new TimeoutException($"nothing listens on 127.0.0.1:{port} after {timeout}");
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
