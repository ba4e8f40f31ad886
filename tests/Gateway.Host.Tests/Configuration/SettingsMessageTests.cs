using Gateway.Cli;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Configuration;

/// <summary>A refused start says what is wrong and where, in words an operator can act on.</summary>
public sealed class SettingsMessageTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private static async Task<(int ExitCode, string Error)> RunAsync(string configPath)
    {
        var error = new StringWriter();
        using var limit = new CancellationTokenSource(TimeSpan.FromSeconds(20));
        var exit = await RunCommand.ExecuteAsync(configPath, error, limit.Token);
        Assert.False(limit.IsCancellationRequested, $"gateway run started with {configPath} instead of refusing it");
        return (exit, error.ToString());
    }

    [Fact]
    public async Task SettingsFileWithAMissingComma_NamesTheReasonLineAndColumn()
    {
        var config = Path.Combine(_world.Root, "appsettings.json");
        await File.WriteAllTextAsync(config, "{\n  \"Gateway\": {\n    \"Smtp\": { \"Port\": 2525 }\n    \"Relay\": { }\n  }\n}\n");

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.Contains($"configuration error: Failed to load configuration from file '{config}': not valid JSON at line 4, column 5: ", error);
        Assert.Contains("Expected either ',', '}', or ']'", error);
    }
}
