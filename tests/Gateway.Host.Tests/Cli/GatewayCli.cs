using System.Diagnostics;
using Gateway.Testing;

namespace Gateway.Tests.Cli;

/// <summary>Runs the built <c>gateway</c> executable once, as an admin would, and returns what it printed.</summary>
public static class GatewayCli
{
    public sealed record Result(int ExitCode, string Output, string Error)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Output}\nstderr:\n{Error}";
    }

    public static Task<Result> RunAsync(string workingDirectory, params string[] arguments) => RunAsync(workingDirectory, new Dictionary<string, string>(), arguments);

    /// <param name="environment">Variables set for this run only (e.g. what libldap reads).</param>
    public static async Task<Result> RunAsync(string workingDirectory, IReadOnlyDictionary<string, string> environment, params string[] arguments)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        var info = new ProcessStartInfo(!string.IsNullOrEmpty(host) && File.Exists(host) ? host : ToolProcess.Require("dotnet"))
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory,
        };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "gateway.dll"));
        foreach (var argument in arguments) info.ArgumentList.Add(argument);
        foreach (var name in info.Environment.Keys.Where(k => k.StartsWith("Gateway__", StringComparison.OrdinalIgnoreCase)).ToList())
            info.Environment.Remove(name);
        foreach (var (name, value) in environment) info.Environment[name] = value;
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        try
        {
            await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(90));
        }
        catch (TimeoutException)
        {
            process.Kill(entireProcessTree: true); // a command that should have ended (a refused start) must not outlive the test
            throw;
        }
        return new Result(process.ExitCode, await output, await error);
    }
}
