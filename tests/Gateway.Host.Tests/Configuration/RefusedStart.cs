using Gateway.Cli;

namespace Gateway.Tests.Configuration;

/// <summary>Runs <c>gateway run</c> on settings that must be refused, and returns its exit code and what it printed.</summary>
public static class RefusedStart
{
    public static async Task<(int ExitCode, string Error)> RunAsync(string root, IReadOnlyDictionary<string, string?> settings)
    {
        var config = SettingsFile.Write(Path.Combine(root, "appsettings.json"), settings);
        var error = new StringWriter();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var exit = await RunCommand.ExecuteAsync(config, error, limit.Token);
        Assert.False(limit.IsCancellationRequested, "gateway run started instead of refusing the settings");
        return (exit, error.ToString());
    }
}
