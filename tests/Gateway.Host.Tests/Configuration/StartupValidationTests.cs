using Gateway.Cli;
using Gateway.Configuration;
using Gateway.Policy;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Configuration;

/// <summary>
/// <c>gateway run</c> refuses to start on a bad setting or policy, exit code 1, naming the key or
/// file:line:column; <c>gateway policy check</c> says the same without starting anything.
/// Only invalid configurations are run: a valid one would serve until cancelled.
/// </summary>
public sealed class StartupValidationTests : IDisposable
{
    // A valid configuration would run until this fires; the test then fails on the exit code instead of hanging.
    private static readonly TimeSpan RunLimit = TimeSpan.FromSeconds(20);

    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private string WriteConfig(Action<Dictionary<string, string?>>? change = null, string name = "appsettings.json")
    {
        var settings = new Dictionary<string, string?>(_world.Settings);
        change?.Invoke(settings);
        return SettingsFile.Write(Path.Combine(_world.Root, name), settings);
    }

    private static async Task<(int ExitCode, string Error)> RunAsync(string configPath)
    {
        var error = new StringWriter();
        using var limit = new CancellationTokenSource(RunLimit);
        var exit = await RunCommand.ExecuteAsync(configPath, error, limit.Token);
        Assert.False(limit.IsCancellationRequested, $"gateway run started with {configPath} instead of refusing it");
        return (exit, error.ToString());
    }

    [Fact]
    public void BaselineConfig_IsValid_SoEachRefusalBelowIsCausedByTheOneBadValue()
    {
        using var host = GatewayHostFactory.Build(WriteConfig());
        var options = host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        Assert.Equal(0, options.Smtp.Port);
        Assert.Equal(_world.PolicyPath, options.Policy.Path);
        Assert.Equal([_world.CaCertificatePath], options.Certificates.EffectiveTrustAnchors);
        var policy = host.Services.GetRequiredService<PolicyProvider>().Load();
        Assert.True(policy.Succeeded, string.Join("\n", policy.Errors));
    }

    [Fact]
    public async Task InvalidCidrInAllowedNetworks_ExitsWith1_NamingTheKeyAndTheValue()
    {
        var config = WriteConfig(s =>
        {
            s["Gateway:Smtp:AllowedNetworks:0"] = "127.0.0.0/8";
            s["Gateway:Smtp:AllowedNetworks:1"] = "10.0.0.0/33";
        });

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.Contains("configuration error: Gateway:Smtp:AllowedNetworks: '10.0.0.0/33' is not a CIDR network", error);
        Assert.DoesNotContain("'127.0.0.0/8'", error);
    }

    [Theory]
    [InlineData("Gateway:Metrics:HttpPrefix", "127.0.0.1:9310/", "must start with http://")]
    [InlineData("Gateway:Metrics:HttpPrefix", "http://:9310/", "must name a host")]
    [InlineData("Gateway:Metrics:HttpPrefix", "http://::1:9310/", "IPv6 address in brackets ([::1]) (e.g. http://127.0.0.1:9310/ or http://[::1]:9310/)")]
    [InlineData("Gateway:Metrics:HttpPrefix", "http://127.0.0.1:0/", "a port from 1 to 65535")]
    [InlineData("Gateway:Metrics:AllowedHosts:0", "metrics.example.com:9310", "'metrics.example.com:9310' is not a host name")]
    [InlineData("Gateway:Certificates:ReloadCheckInterval", "00:00:00", "must be a positive duration")]
    [InlineData("Gateway:Harvest:Domains:0", "alice@example.test", "'alice@example.test' is not a domain or *.domain")]
    [InlineData("Gateway:Harvest:Domains:0", "<>", "'<>' is not a domain or *.domain")]
    [InlineData("Gateway:Spool:BounceSizeLimit", "-1", "must be 0 (headers only) or a number of bytes")]
    [InlineData("Gateway:Smtp:AllowedSenders:0", "bob*@example.test", "would match nobody")]
    // Task.Delay throws past 2^32-2 ms (49.7 days): the held-copy service looped on the error at full speed.
    [InlineData("Gateway:Spool:HeldRecheckInterval", "60.00:00:00", "must be at most 49.17:02:47")]
    [InlineData("Gateway:Policy:ReloadCheckInterval", "50.00:00:00", "must be at most 49.17:02:47")]
    [InlineData("Gateway:Smtp:CommandTimeout", "100.00:00:00", "must be at most 49.17:02:47")]
    public async Task BadValueOfASettingAddedLater_ExitsWith1_NamingTheKey(string key, string value, string expected)
    {
        var (exit, error) = await RunAsync(WriteConfig(s => s[key] = value));
        Assert.Equal(1, exit);
        Assert.Contains($"configuration error: {key}", error);
        Assert.Contains(expected, error);
    }

    /// <summary>Both endpoints' prefixes pass by the server's own rule: the metrics' refused an IPv6 literal and a prefix without a port, which the CRL's took as port 80.</summary>
    [Theory]
    [InlineData("http://127.0.0.1/")]
    [InlineData("http://[::1]:9310/")]
    [InlineData("http://[::]/pki/")]
    [InlineData("http://+:9310/pki/")]
    public void PrefixTheServerCanListenAt_PassesForBothSettings(string prefix)
    {
        using var host = GatewayHostFactory.Build(WriteConfig(s =>
        {
            s["Gateway:Ca:Enabled"] = "true";
            s["Gateway:Ca:Path"] = Path.Combine(_world.Root, "ca");
            s["Gateway:Ca:Password"] = "ca-password";
            s["Gateway:Ca:EligibleSenders:0"] = "example.test";
            s["Gateway:Ca:CrlHttpPrefix"] = prefix;
            s["Gateway:Metrics:HttpPrefix"] = prefix;
        }));
        var options = host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        Assert.Equal(prefix, options.Metrics.HttpPrefix);
        Assert.Equal(prefix, options.Ca.CrlHttpPrefix);
    }

    [Theory]
    [InlineData("Gateway:Smtp:SenderDomains", "example.com", "is a list")]
    [InlineData("Gateway:Smtp:Auth:Networks", "10.0.0.0/8", "is a list")]
    [InlineData("Gateway:Relay:FallbackHosts", "mx2.example.test", "is a list")]
    [InlineData("Gateway:Certificates:Sources", "local", "is a list")]
    [InlineData("Gateway:Smtp:Auth", "true", "is a section")]
    [InlineData("Gateway:Relay:Host:0", "mx.example.test", "is a single value")]
    public async Task SettingInTheWrongShape_ExitsWith1_NamingTheKeyAndHowToWriteIt(string key, string value, string expected)
    {
        // Bound as null or left at its default, each of these opened something: any sender domain, AUTH from anywhere.
        var (exit, error) = await RunAsync(WriteConfig(s => s[key] = value));

        Assert.Equal(1, exit);
        Assert.Contains($"configuration error: {key.Replace(":0", "", StringComparison.Ordinal)}", error);
        Assert.Contains(expected, error);
    }

    [Theory]
    [InlineData("Gateway:Relay:TlsMode", "7", "None, Opportunistic, Required")]
    [InlineData("Gateway:Relay:TlsMode", "1", "None, Opportunistic, Required")]
    [InlineData("Gateway:Certificates:Revocation:Mode", "9", "Gateway:Certificates:Revocation:Mode")]
    [InlineData("Gateway:Smtp:BareNewline", "0", "Reject, Normalize")]
    public async Task NumericEnumSetting_ExitsWith1_NamingTheKeyAndTheAllowedNames(string key, string value, string expected)
    {
        var (exit, error) = await RunAsync(WriteConfig(s =>
        {
            s[key] = value;
            if (key != "Gateway:Relay:TlsMode") return;
            // TlsMode 7 is neither Opportunistic nor Required: it slipped past the credentials check.
            s["Gateway:Relay:Host"] = "127.0.0.1";
            s["Gateway:Relay:Username"] = "gateway";
            s["Gateway:Relay:Password"] = "secret";
        }));

        Assert.Equal(1, exit);
        Assert.Contains($"configuration error: {key}", error);
        Assert.Contains(expected, error);
    }

    [Fact]
    public async Task RelayCredentials_WithOpportunisticTls_AreRefused_SinceAnyoneAnsweringWouldGetThePassword()
    {
        var (exit, error) = await RunAsync(WriteConfig(s =>
        {
            s["Gateway:Relay:Host"] = "127.0.0.1";
            s["Gateway:Relay:TlsMode"] = "Opportunistic";
            s["Gateway:Relay:Username"] = "gateway";
            s["Gateway:Relay:Password"] = "secret";
        }));

        Assert.Equal(1, exit);
        Assert.Contains("configuration error: Gateway:Relay:Username needs Gateway:Relay:TlsMode Required", error);
        Assert.DoesNotContain("secret", error);
    }

    [Fact]
    public async Task UnknownKey_ExitsWith1_NamingTheFullKey()
    {
        var config = WriteConfig(s => s["Gateway:Smtp:Prot"] = "2525");

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.StartsWith("configuration error:", error);
        // "Prot" alone could be under Smtp or Relay; the operator needs the whole path to find the line.
        Assert.True(error.Contains("Gateway:Smtp:Prot", StringComparison.Ordinal), $"the error does not name Gateway:Smtp:Prot:\n{error}");
    }

    [Fact]
    public async Task ValueOfTheWrongType_ExitsWith1_NamingTheKey()
    {
        var config = WriteConfig(s => s["Gateway:Spool:FirstRetry"] = "soon");

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.StartsWith("configuration error:", error);
        Assert.Contains("Gateway:Spool:FirstRetry", error);
    }

    [Fact]
    public async Task MissingPolicyFile_ExitsWith1_NamingTheKeyAndThePath()
    {
        var missing = Path.Combine(_world.Root, "no-such-policy.json");
        var config = WriteConfig(s => s["Gateway:Policy:Path"] = missing);

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.Contains($"configuration error: Gateway:Policy:Path: file '{missing}' does not exist", error);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("257")]
    public async Task MaxConcurrentTransformsOutOfRange_ExitsWith1_NamingTheKey(string value)
    {
        var config = WriteConfig(s => s["Gateway:Spool:MaxConcurrentTransforms"] = value);

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Spool:MaxConcurrentTransforms must be between 1 and 256", error);
    }

    [Fact]
    public async Task SeveralBadValues_AreAllReportedAtOnce()
    {
        var config = WriteConfig(s =>
        {
            s["Gateway:Smtp:AllowedNetworks:0"] = "not-a-network";
            s["Gateway:Policy:Path"] = Path.Combine(_world.Root, "missing.json");
            s["Gateway:Spool:Workers"] = "0";
        });

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Smtp:AllowedNetworks: 'not-a-network'", error);
        Assert.Contains("Gateway:Policy:Path", error);
        Assert.Contains("Gateway:Spool:Workers", error);
    }

    [Fact]
    public async Task PolicyWithASyntaxError_ExitsWith1_WithFileLineAndColumn()
    {
        // Line 3, column 3: the comma after the default's closing brace is missing.
        await File.WriteAllTextAsync(_world.PolicyPath, """
            {
              "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" }
              "rules": []
            }
            """);
        var config = WriteConfig();

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.StartsWith($"policy error: {_world.PolicyPath}:3:3:", error);
    }

    [Fact]
    public async Task PolicyWithAnUnknownKey_ExitsWith1_PointingAtItsLine()
    {
        await File.WriteAllTextAsync(_world.PolicyPath, """
            {
              "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [
                { "name": "typo",
                  "encrpyt": "required" }
              ]
            }
            """);
        var config = WriteConfig();

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.StartsWith($"policy error: {_world.PolicyPath}:5:", error);
        Assert.Contains("unknown key", error);
        Assert.Contains("encrpyt", error);
    }

    [Fact]
    public async Task MalformedSettingsFile_ExitsWith1_NamingTheFile()
    {
        var config = Path.Combine(_world.Root, "broken-appsettings.json");
        await File.WriteAllTextAsync(config, "{ \"Gateway\": { \"Smtp\": { \"Port\": 2525, } ");

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.StartsWith("configuration error:", error);
        Assert.Contains("broken-appsettings.json", error);
    }

    [Fact]
    public async Task MissingSettingsFile_ExitsWith1_NamingTheFile()
    {
        var config = Path.Combine(_world.Root, "absent-appsettings.json");

        var (exit, error) = await RunAsync(config);

        Assert.Equal(1, exit);
        Assert.StartsWith("configuration error:", error);
        Assert.Contains("absent-appsettings.json", error);
    }

    [Fact]
    public async Task PolicyCheck_AcceptsTheSamplePolicies_WithExit0()
    {
        foreach (var file in new[] { _world.PolicyPath, ShippedPolicyPath() })
        {
            var output = new StringWriter();
            var error = new StringWriter();

            var exit = await PolicyCheckCommand.ExecuteAsync(file, null, output, error);

            Assert.True(exit == 0, $"{file}: exit {exit}\n{error}");
            Assert.Equal(string.Empty, error.ToString());
            Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(file)}: valid, revision [0-9a-f]{{12}}, 2 rules", output.ToString());
        }
    }

    [Fact]
    public async Task PolicyCheck_RejectsABrokenPolicy_WithExit1_AndFileLineColumn()
    {
        var broken = Path.Combine(_world.Root, "broken-policy.json");
        await File.WriteAllTextAsync(broken, """
            {
              "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [
                { "name": "bad-value", "sign": "sometimes" }
              ]
            }
            """);
        var output = new StringWriter();
        var error = new StringWriter();

        var exit = await PolicyCheckCommand.ExecuteAsync(broken, null, output, error);

        Assert.Equal(1, exit);
        Assert.Equal(string.Empty, output.ToString());
        Assert.Matches($"^{System.Text.RegularExpressions.Regex.Escape(broken)}:4:\\d+: invalid value at \\$\\.rules\\[0\\]\\.sign", error.ToString());
    }

    [Fact]
    public async Task PolicyCheck_BadValueInTheShippedPolicy_IsReportedOnItsRealLine_CountingTheHeaderComments()
    {
        // The shipped policy.json starts with three comment lines; an admin's typo below them must point at the typo's line.
        var shipped = await File.ReadAllTextAsync(ShippedPolicyPath());
        var edited = shipped.Replace("\"sign\": \"always\",\n      \"encrypt\": \"required\"", "\"sign\": \"alwayz\",\n      \"encrypt\": \"required\"", StringComparison.Ordinal);
        Assert.NotEqual(shipped, edited);
        var typoLine = edited.Split('\n').ToList().FindIndex(l => l.Contains("alwayz", StringComparison.Ordinal)) + 1;
        var file = Path.Combine(_world.Root, "edited-policy.json");
        await File.WriteAllTextAsync(file, edited);
        var error = new StringWriter();

        var exit = await PolicyCheckCommand.ExecuteAsync(file, null, new StringWriter(), error);

        Assert.Equal(1, exit);
        Assert.True(error.ToString().StartsWith($"{file}:{typoLine}:", StringComparison.Ordinal), $"the typo is on line {typoLine}, but policy check said:\n{error}");
    }

    [Fact]
    public async Task PolicyCheck_OfAMissingFile_Exits1()
    {
        var missing = Path.Combine(_world.Root, "absent-policy.json");
        var error = new StringWriter();

        var exit = await PolicyCheckCommand.ExecuteAsync(missing, null, new StringWriter(), error);

        Assert.Equal(1, exit);
        Assert.Contains(missing, error.ToString());
    }

    /// <summary>policy.json at the repository root, found by walking up from the test output folder.</summary>
    private static string ShippedPolicyPath()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Gateway.sln"))) return Path.Combine(dir.FullName, "policy.json");
        }
        throw new InvalidOperationException($"no Gateway.sln above {AppContext.BaseDirectory}");
    }
}
