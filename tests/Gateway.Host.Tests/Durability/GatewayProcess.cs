using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Testing;

namespace Gateway.Tests.Durability;

/// <summary>
/// The built gateway as its own OS process (<c>dotnet gateway.dll run --config FILE</c>), so a
/// test can SIGKILL it the way a power cut or the OOM killer would, and start it again.
/// </summary>
public sealed class GatewayProcess : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(30);
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private GatewayProcess(Process process) => _process = process;

    public int ProcessId => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>Everything the process wrote to stdout and stderr so far, for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output) return _output.ToString();
        }
    }

    /// <summary>Starts the gateway and returns once <paramref name="smtpPort"/> accepts connections.</summary>
    /// <param name="wrapper">A command the gateway runs under (e.g. prlimit and its arguments).</param>
    public static async Task<GatewayProcess> StartAsync(string configPath, int smtpPort, string workingDirectory, IReadOnlyList<string>? wrapper = null)
    {
        var dll = Path.Combine(AppContext.BaseDirectory, "gateway.dll");
        if (!File.Exists(dll)) throw new FileNotFoundException($"the built gateway is not in the test output folder: {dll}", dll);
        string[] command = [.. wrapper is { Count: > 0 } ? [ToolProcess.Require(wrapper[0]), .. wrapper.Skip(1)] : Array.Empty<string>(), DotnetHost(), dll, "run", "--config", configPath];
        var startInfo = new ProcessStartInfo(command[0])
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        foreach (var argument in command.Skip(1)) startInfo.ArgumentList.Add(argument);
        // Only the file under test configures this gateway: no Gateway__* overrides from the runner's environment.
        foreach (var name in startInfo.Environment.Keys.Where(k => k.StartsWith("Gateway__", StringComparison.OrdinalIgnoreCase)).ToList())
            startInfo.Environment.Remove(name);

        var process = Process.Start(startInfo) ?? throw new InvalidOperationException("could not start " + dll);
        var gateway = new GatewayProcess(process);
        process.OutputDataReceived += (_, e) => gateway.Append(e.Data);
        process.ErrorDataReceived += (_, e) => gateway.Append(e.Data);
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        try
        {
            await gateway.WaitUntilListeningAsync(smtpPort);
            return gateway;
        }
        catch
        {
            await gateway.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL on Linux: no shutdown hooks, no flush, no graceful stop of the workers.</summary>
    public void Kill()
    {
        try
        {
            _process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
        if (!_process.WaitForExit(TimeSpan.FromSeconds(10)))
            throw new InvalidOperationException($"gateway process {_process.Id} still runs 10 s after SIGKILL");
    }

    /// <summary>Sends a signal (15 SIGTERM, 2 SIGINT as Ctrl-C does) and waits for the exit code.</summary>
    public async Task<int> SignalAndWaitAsync(int signal, TimeSpan timeout)
    {
        if (SendSignal(_process.Id, signal) != 0) throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed");
        try
        {
            await _process.WaitForExitAsync().WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            throw new TimeoutException($"gateway process {_process.Id} still runs {timeout.TotalSeconds:0} s after signal {signal}{IgnoredNote(signal)}; its output:\n{Output}");
        }
        return _process.ExitCode;
    }

    /// <summary>
    /// A signal ignored when the process started stays ignored (exec keeps SIG_IGN, and .NET, like
    /// any Unix program, leaves an ignored SIGINT alone): that is what a test run started in the
    /// background (`cmd &`) passes down. Said in the failure instead of a bare timeout.
    /// </summary>
    private string IgnoredNote(int signal)
    {
        try
        {
            var line = File.ReadLines($"/proc/{_process.Id}/status").FirstOrDefault(l => l.StartsWith("SigIgn:", StringComparison.Ordinal));
            if (line is null) return "";
            var mask = Convert.ToUInt64(line["SigIgn:".Length..].Trim(), 16);
            return (mask & (1UL << (signal - 1))) != 0
                ? $" (the process ignores signal {signal}, inherited from the test run: run the suite in the foreground, not with `&`)"
                : "";
        }
        catch (Exception e) when (e is IOException or FormatException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int SendSignal(int pid, int signal);

    public ValueTask DisposeAsync()
    {
        if (!_process.HasExited) Kill();
        _process.Dispose();
        return ValueTask.CompletedTask;
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output) _output.AppendLine(line);
    }

    private async Task WaitUntilListeningAsync(int port)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (_process.HasExited)
                throw new InvalidOperationException($"gateway exited with {_process.ExitCode} before listening on {port}:\n{Output}");
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            catch (SocketException e)
            {
                throw new TimeoutException($"gateway not listening on {port} after {ReadyTimeout} ({e.SocketErrorCode}):\n{Output}");
            }
        }
    }

    /// <summary>The dotnet host that runs the tests (the SDK sets DOTNET_HOST_PATH), else dotnet on PATH.</summary>
    internal static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : ToolProcess.Require("dotnet");
    }
}
