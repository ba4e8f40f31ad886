using System.Text;
using System.Text.Json;
using Gateway.Policy;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Policy;

/// <summary>
/// policy.json edited under a running gateway: a good edit decides the next message and is
/// audited with its revision; a bad edit (syntax, or a reorder that hides a required rule)
/// changes nothing, is audited with file:line:column, and encryption stays required.
/// </summary>
public sealed class PolicyReloadTests : IAsyncLifetime
{
    private const string ElsewhereRefused = """
        {
          "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
          "rules": [
            { "name": "elsewhere-requires-encryption", "senders": ["example.test"], "recipients": ["elsewhere.test"], "encrypt": "required" },
            { "name": "partner-test-requires-encryption", "senders": ["example.test"], "recipients": ["partner.test"],
              "sign": "always", "encrypt": "required", "missingCertificate": "refuse" },
            { "name": "internal-senders-sign", "senders": ["example.test"], "sign": "always" }
          ]
        }
        """;

    private readonly GatewayWorld _world = new();
    private RunningGateway _gateway = null!;
    private string _firstRevision = "";
    private int _sent;

    public async Task InitializeAsync()
    {
        _world.Settings["Gateway:Policy:ReloadCheckInterval"] = "00:00:01";
        _gateway = await RunningGateway.StartAsync(_world);
        _firstRevision = Revision(GatewayWorld.SamplePolicy);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        _world.Dispose();
    }

    private static string Revision(string policy) => PolicyCompiler.Compile(Encoding.UTF8.GetBytes(policy), "p").Snapshot!.Revision;

    private async Task<JsonElement> SendAndDecideAsync(string to)
    {
        var id = $"reload-{Interlocked.Increment(ref _sent)}@example.test";
        var message = RunningGateway.NewMessage("alice@example.test", to, "reload");
        message.MessageId = id;
        await _gateway.SendAsync(message, "alice@example.test", to);
        return await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", to) && e.GetProperty("messageId").GetString() == $"<{id}>", TimeSpan.FromSeconds(60));
    }

    [Fact]
    public async Task GoodEdit_WhileMailFlows_DecidesTheNextMessage_AndEveryMessageUsesOneRevision()
    {
        var before = await SendAndDecideAsync("dave@elsewhere.test");
        Assert.Equal("internal-senders-sign", before.GetProperty("rule").GetString());
        Assert.Equal(_firstRevision, before.GetProperty("policyRevision").GetString());

        using var stop = new CancellationTokenSource();
        var flowing = Task.Run(async () =>
        {
            for (var i = 0; i < 20 && !stop.IsCancellationRequested; i++)
                await _gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "flow"), "alice@example.test", "dave@elsewhere.test", "bob@partner.test");
        });
        await Task.Delay(200);
        await File.WriteAllTextAsync(_world.PolicyPath, ElsewhereRefused);
        var newRevision = Revision(ElsewhereRefused);
        var loaded = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "policy-loaded"), TimeSpan.FromSeconds(30));
        Assert.Equal(newRevision, loaded.GetProperty("policyRevision").GetString());

        var after = await SendAndDecideAsync("dave@elsewhere.test");
        Assert.Equal("elsewhere-requires-encryption", after.GetProperty("rule").GetString());
        Assert.Equal("refuse", after.GetProperty("action").GetString());
        Assert.Equal(newRevision, after.GetProperty("policyRevision").GetString());

        await stop.CancelAsync();
        await flowing;
        // One snapshot per message: both recipients of a message were decided by the same revision,
        // and dave's rule is the one that revision has.
        await Task.Delay(500);
        var decisions = _gateway.AuditEvents().Where(e => RunningGateway.Is(e, "decision")).GroupBy(e => e.GetProperty("spoolId").GetString()).ToList();
        Assert.True(decisions.Count >= 3);
        foreach (var message in decisions)
        {
            var revision = Assert.Single(message.Select(e => e.GetProperty("policyRevision").GetString()).Distinct());
            Assert.Contains(revision, new[] { _firstRevision, newRevision });
            foreach (var dave in message.Where(e => e.GetProperty("recipient").GetString() == "dave@elsewhere.test"))
                Assert.Equal(revision == newRevision ? "elsewhere-requires-encryption" : "internal-senders-sign", dave.GetProperty("rule").GetString());
        }
    }

    [Fact]
    public async Task BrokenEdit_ThatDropsTheRequiredRule_ChangesNothing_AndIsAuditedWithTheLine()
    {
        await File.WriteAllTextAsync(_world.PolicyPath, """
            {
              "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [
                { "name": "internal-senders-sign", "senders": ["example.test"], "sing": "always" }
              ]
            }
            """);

        var rejected = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "policy-rejected"), TimeSpan.FromSeconds(30));
        Assert.Equal(_firstRevision, rejected.GetProperty("policyRevision").GetString());
        Assert.Contains($"{_world.PolicyPath}:4:", rejected.GetProperty("reason").GetString());

        var decision = await SendAndDecideAsync("erin@partner.test");
        Assert.Equal("partner-test-requires-encryption", decision.GetProperty("rule").GetString());
        Assert.Equal("refuse", decision.GetProperty("action").GetString());
        Assert.Equal(_firstRevision, decision.GetProperty("policyRevision").GetString());
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "policy-loaded"));
    }

    [Fact]
    public async Task ReorderThatHidesTheRequiredRule_IsRejected_AndEncryptionStaysRequired()
    {
        await File.WriteAllTextAsync(_world.PolicyPath, """
            {
              "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [
                { "name": "internal-senders-sign", "senders": ["example.test"], "sign": "always" },
                { "name": "partner-test-requires-encryption", "senders": ["example.test"], "recipients": ["partner.test"],
                  "sign": "always", "encrypt": "required", "missingCertificate": "refuse" }
              ]
            }
            """);

        var rejected = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "policy-rejected"), TimeSpan.FromSeconds(30));
        Assert.Contains($"{_world.PolicyPath}:5:", rejected.GetProperty("reason").GetString());
        Assert.Contains("can never match", rejected.GetProperty("reason").GetString());

        var decision = await SendAndDecideAsync("erin@partner.test");
        Assert.Equal("partner-test-requires-encryption", decision.GetProperty("rule").GetString());
        Assert.Equal("refuse", decision.GetProperty("action").GetString());
    }

    [Fact]
    public async Task NullRule_IsRejectedWithItsLine_AuditedOnce_AndNotRecompiledUntilTheFileChanges()
    {
        await File.WriteAllTextAsync(_world.PolicyPath, """
            {
              "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [
                null
              ]
            }
            """);

        var rejected = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "policy-rejected"), TimeSpan.FromSeconds(30));
        Assert.Contains($"{_world.PolicyPath}:4:", rejected.GetProperty("reason").GetString());
        Assert.Contains("a rule must be an object", rejected.GetProperty("reason").GetString());

        // ReloadCheckInterval is one second: a rejection that was not remembered would be written again.
        await Task.Delay(TimeSpan.FromSeconds(3));
        Assert.Single(_gateway.AuditEvents(), e => RunningGateway.Is(e, "policy-rejected"));
        var decision = await SendAndDecideAsync("erin@partner.test");
        Assert.Equal("partner-test-requires-encryption", decision.GetProperty("rule").GetString());
        Assert.Equal(_firstRevision, decision.GetProperty("policyRevision").GetString());
    }
}
