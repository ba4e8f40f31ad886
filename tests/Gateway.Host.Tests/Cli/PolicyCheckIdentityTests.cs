using Gateway.Cli;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Cli;

/// <summary>`policy check --config` finds sign-always rules for senders nobody can sign for, at their line.</summary>
public sealed class PolicyCheckIdentityTests : IDisposable
{
    private const string Policy = """
        {
          "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
          "rules": [
            { "name": "alice-signs", "senders": ["alice@example.test"], "sign": "always" },
            { "name": "frank-signs",
              "senders": ["frank@example.test"], "sign": "always" }
          ]
        }
        """;

    private readonly GatewayWorld _world = new(Policy);

    public void Dispose() => _world.Dispose();

    private async Task<(int Exit, string Output, string Error)> CheckAsync()
    {
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await PolicyCheckCommand.ExecuteAsync(_world.PolicyPath, config, output, error);
        return (exit, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task SignAlwaysForASenderWithoutIdentity_IsReportedAtItsLine()
    {
        var (exit, _, error) = await CheckAsync();
        Assert.Equal(1, exit);
        Assert.Contains($"{_world.PolicyPath}:6:19: rule 'frank-signs' signs always for frank@example.test, but no usable signing identity is known", error);
        Assert.DoesNotContain("alice@example.test", error);
    }

    [Fact]
    public async Task SenderTheBuiltInCaEnrols_IsNotReported()
    {
        _world.Settings["Gateway:Ca:Enabled"] = "true";
        _world.Settings["Gateway:Ca:Path"] = Path.Combine(_world.Root, "ca");
        _world.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";
        _world.Settings["Gateway:Ca:Password"] = "ca-password";
        var (exit, output, error) = await CheckAsync();
        Assert.True(exit == 0, error);
        Assert.Contains("signing identities checked", output);
    }
}
