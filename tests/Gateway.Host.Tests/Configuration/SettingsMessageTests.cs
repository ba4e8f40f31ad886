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

    [Fact]
    public async Task SettingsFileWithAFaultAfterNonAsciiText_CountsTheColumnInCharacters_NotBytes()
    {
        var config = Path.Combine(_world.Root, "appsettings.json");
        // "ü" and "ö" are two bytes each in UTF-8: the reader's byte position is two past the column an editor shows.
        await File.WriteAllTextAsync(config, "{\n  \"Gateway\": {\n    \"Smtp\": { \"ServerName\": \"zürich-köln.example\" \"Port\": 2525 }\n  }\n}\n");

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        var column = "    \"Smtp\": { \"ServerName\": \"zürich-köln.example\" ".Length + 1;
        Assert.Contains($"not valid JSON at line 3, column {column}: ", error);
    }

    [Theory]
    [InlineData("Gateway:Relay:TlsMode", "Requird", "'Requird' is not one of None, Opportunistic, Required")]
    [InlineData("Gateway:Certificates:Revocation:Mode", "Sof", "'Sof' is not one of Off, SoftFail, HardFail")]
    [InlineData("Gateway:Spool:FirstRetry", "5m", "'5m' is not a duration: write [d.]hh:mm:ss, e.g. 00:05:00 for five minutes")]
    [InlineData("Gateway:Smtp:Port", "twenty-five", "'twenty-five' is not a whole number")]
    [InlineData("Gateway:Harvest:Enabled", "yes", "'yes' is not true or false")]
    public async Task ValueTheBinderCannotConvert_SaysWhatIsExpected_NotTheDotNetType(string key, string value, string expected)
    {
        var settings = new Dictionary<string, string?>(_world.Settings) { [key] = value };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.Contains($"configuration error: {key}: {expected}", error);
        Assert.DoesNotContain("Failed to convert", error);
    }

    [Fact]
    public async Task SeveralValuesTheBinderCannotConvert_AreAllNamedAtOnce()
    {
        var settings = new Dictionary<string, string?>(_world.Settings) { ["Gateway:Relay:TlsMode"] = "Requird", ["Gateway:Spool:FirstRetry"] = "soon" };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);

        var (_, error) = await RunAsync(config);

        Assert.Contains("Gateway:Relay:TlsMode", error);
        Assert.Contains("Gateway:Spool:FirstRetry", error);
    }

    [Fact]
    public async Task StartInAFolderWithoutSettings_SaysNoneWasFound_AndNamesFilesByAbsolutePath()
    {
        var empty = Directory.CreateDirectory(Path.Combine(_world.Root, "empty")).FullName;

        var result = await Cli.GatewayCli.RunAsync(empty, "run");

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"note: no appsettings.json in {empty} and no --config: the defaults were used", result.Error);
        Assert.Contains($"configuration error: Gateway:Policy:Path: file '{Path.Combine(empty, "policy.json")}' does not exist", result.Error);
    }
}
