using System.Text.Json;
using Gateway.Cli;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Configuration;

namespace Gateway.Tests.Cli;

/// <summary><c>gateway policy explain</c> on the shipped policy, with the gateway's own settings and certificate folder.</summary>
public sealed class PolicyExplainTests(PolicyExplainTests.ShippedWorld shipped) : IClassFixture<PolicyExplainTests.ShippedWorld>
{
    /// <summary>One world for the class: explain only reads it, and making the test PKI is the slow part.</summary>
    public sealed class ShippedWorld : IDisposable
    {
        public GatewayWorld World { get; } = new(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "shipped.policy.json")));

        public void Dispose() => World.Dispose();
    }

    private GatewayWorld World => shipped.World;

    private async Task<(int Code, string Output, string Error)> ExplainAsync(bool json, string? subject, string[] headers, params string[] to)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await PolicyExplainCommand.ExecuteAsync(
            new PolicyExplainCommand.Request("alice@example.test", to, subject, headers, json, null),
            output, error, CancellationToken.None, c => c.AddInMemoryCollection(World.Settings));
        return (code, output.ToString(), error.ToString());
    }

    [Fact]
    public async Task ShippedPolicy_ExplainsEachRecipient_WithRuleDecisionAndCertificateSource()
    {
        var (code, output, error) = await ExplainAsync(false, null, [], "bob@partner.test", "erin@partner.test", "dave@elsewhere.test");

        Assert.True(code == 0, error);
        var blocks = output.Split("\n\n");
        var bob = Assert.Single(blocks, b => b.StartsWith("bob@partner.test", StringComparison.Ordinal));
        Assert.Contains("rule:        partner-test-requires-encryption", bob);
        Assert.Contains("decision:    sign+encrypt", bob);
        Assert.Contains($"usable, {World.Bob.Certificate.Thumbprint} from local:bob@partner.test.crt", bob);
        var erin = Assert.Single(blocks, b => b.StartsWith("erin@partner.test", StringComparison.Ordinal));
        Assert.Contains("decision:    refuse (550 5.7.10", erin);
        Assert.Contains("none usable: no encryption certificate known for erin@partner.test", erin);
        var dave = Assert.Single(blocks, b => b.StartsWith("dave@elsewhere.test", StringComparison.Ordinal));
        Assert.Contains("rule:        internal-senders-sign", dave);
        Assert.Contains("decision:    sign (", dave);
        Assert.Contains($"signing identity usable, {World.Alice.Certificate.Thumbprint}", output);
    }

    [Fact]
    public async Task Json_WithTheSubjectTag_ShowsTheTriggerRaisingEncryption()
    {
        var (code, output, error) = await ExplainAsync(true, "[secure] figures", [], "dave@elsewhere.test");

        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(output).RootElement;
        var dave = Assert.Single(root.GetProperty("recipients").EnumerateArray());
        Assert.Equal("internal-senders-sign", dave.GetProperty("rule").GetString());
        Assert.Equal("subject tag \"[secure]\"", dave.GetProperty("trigger").GetString());
        Assert.Equal("required", dave.GetProperty("encrypt").GetString());
        Assert.Equal("refuse", dave.GetProperty("decision").GetString());
        Assert.False(dave.GetProperty("certificate").GetProperty("usable").GetBoolean());
    }

    [Fact]
    public async Task MalformedHeaderOption_ExitsOne_WithTheReason()
    {
        var (code, _, error) = await ExplainAsync(false, null, ["X-Gateway-Encrypt yes"], "bob@partner.test");

        Assert.Equal(1, code);
        Assert.Contains("\"Name: value\"", error);
    }

    [Fact]
    public async Task UnreadableCertificateFolderFile_IsNamedAsAWarning_NotAsALogLine()
    {
        using var world = new GatewayWorld();
        var frank = PolicyCheckTests.WriteWrongPasswordIdentity(world);
        var config = Configuration.SettingsFile.Write(Path.Combine(world.Root, "appsettings.json"), world.Settings);

        var result = await GatewayCli.RunAsync(world.Root, "policy", "explain", "--config", config, "--from", "alice@example.test", "--to", "bob@partner.test");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"warning: certificate file not read (gateway run refuses to start with it; answered without it): {frank}: ", result.Error);
        Assert.DoesNotContain("LocalCertificateStore[4002]", result.ToString());
    }
}
