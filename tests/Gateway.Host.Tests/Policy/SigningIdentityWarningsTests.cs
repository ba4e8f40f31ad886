using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Policy;

/// <summary>
/// A rule that signs always for a sender nobody can sign for is said at start, after a policy
/// reload that brings it, and after a certificate folder reload that takes the identity away:
/// once each, in the log and the audit, before that sender's mail starts being refused.
/// </summary>
public sealed class SigningIdentityWarningsTests : IDisposable
{
    private const string Policy = """
        {
          "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
          "rules": [
            { "name": "alice-signs", "senders": ["alice@example.test"], "sign": "always" },
            { "name": "dan-signs", "senders": ["dan@example.test"], "sign": "always" }
          ]
        }
        """;

    private readonly GatewayWorld _world = new(Policy);

    public void Dispose() => _world.Dispose();

    private static IEnumerable<string> Warnings(RunningGateway gateway) =>
        gateway.AuditEvents().Where(e => RunningGateway.Is(e, "signing-identity-missing")).Select(e => e.GetProperty("reason").GetString()!);

    [Fact]
    public async Task AtStart_OnlyTheSenderWithoutAnIdentity_IsNamed_WithItsPlaceInThePolicy()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);

        var warning = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "signing-identity-missing"));
        Assert.Contains("rule 'dan-signs' signs always for dan@example.test", warning.GetProperty("reason").GetString());
        Assert.Contains($"{_world.PolicyPath}:5:", warning.GetProperty("reason").GetString());
        Assert.EndsWith("(at start)", warning.GetProperty("reason").GetString());
        Assert.DoesNotContain(Warnings(gateway), w => w.Contains("alice@example.test"));
    }

    [Fact]
    public async Task AnIdentityTakenOutOfTheFolder_IsSaidAtTheReload_Once()
    {
        _world.Settings["Gateway:Certificates:ReloadCheckInterval"] = "00:00:01";
        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "signing-identity-missing"));

        File.Delete(_world.AliceFiles.Pkcs12Path);
        var warning = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "signing-identity-missing") && e.GetProperty("reason").GetString()!.Contains("alice@example.test"));
        Assert.EndsWith("(at certificate folder reload)", warning.GetProperty("reason").GetString());

        // Checking again, as the next reload of either kind does, repeats neither warning.
        var warnings = gateway.Services.GetRequiredService<Gateway.Policy.SigningIdentityWarnings>();
        await warnings.ReportAsync("policy reload", CancellationToken.None);
        await warnings.ReportAsync("certificate folder reload", CancellationToken.None);
        Assert.Equal(2, Warnings(gateway).Count());
    }

    [Fact]
    public async Task APolicyReloadThatBringsSuchARule_IsSaid_WithTheLineOfTheNewText()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "signing-identity-missing"));

        const string Dan = "{ \"name\": \"dan-signs\",";
        await File.WriteAllTextAsync(_world.PolicyPath, Policy.Replace(Dan,
            "{ \"name\": \"erin-signs\", \"senders\": [\"erin@example.test\"], \"sign\": \"always\" },\n    " + Dan, StringComparison.Ordinal));

        var warning = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "signing-identity-missing") && e.GetProperty("reason").GetString()!.Contains("erin@example.test"));
        Assert.Contains($"{_world.PolicyPath}:5:", warning.GetProperty("reason").GetString());
        Assert.EndsWith("(at policy reload)", warning.GetProperty("reason").GetString());
        Assert.Single(Warnings(gateway), w => w.Contains("dan@example.test")); // moved a line down: still the same problem
    }
}
