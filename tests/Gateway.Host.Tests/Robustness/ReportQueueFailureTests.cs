using Gateway.Audit;
using Gateway.Metrics;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Robustness;

/// <summary>
/// A report that cannot be dealt with at the end of an attempt (here its audit line fails, as on a
/// disk that filled up for a moment) stays owed: the entry stays queued, the next attempt deals
/// with it, and the recipient it is about stays failed. Before, the recipient went back to
/// deferred and was tried again, policy refusal and all.
/// </summary>
public sealed class ReportQueueFailureTests : IDisposable
{
    private const string Erin = "erin@partner.test"; // partner.test requires encryption; erin has no certificate
    private readonly GatewayWorld _world = new("""
        {
          "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse" },
          "rules": [ { "name": "partner-requires-encryption", "recipients": ["partner.test"], "encrypt": "required" } ]
        }
        """);

    public void Dispose() => _world.Dispose();

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task AReportThatCannotBeDealtWith_StaysOwed_TheNextAttemptDealsWithIt_AndTheRecipientStaysFailed(string journal)
    {
        _world.Settings["Gateway:Spool:Journal"] = journal;
        await using var gateway = await RunningGateway.StartAsync(_world, services =>
            services.AddSingleton<IAuditLog>(sp => new FirstLineFails(sp.GetRequiredService<CountingAuditLog>(), "bounce-suppressed")));

        // A null sender: the failure report is suppressed (never a bounce for a bounce), and that is audited.
        await gateway.SendRawAsync("", Erin, "owed-1", "");

        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"), TimeSpan.FromSeconds(30));
        var events = gateway.AuditEvents();
        Assert.Single(events, e => RunningGateway.Is(e, "refused", Erin));
        Assert.Single(events, e => RunningGateway.Is(e, "bounce-suppressed"));
        Assert.DoesNotContain(events, e => RunningGateway.Is(e, "deferred"));
        var attempts = events.Where(e => RunningGateway.Is(e, "completed")).Select(e => e.GetProperty("status").GetString()).Single();
        Assert.Equal("failed=1", attempts);
    }

    /// <summary>
    /// The report is queued, and then its audit line fails: it is owed no more, so the next attempt
    /// does not queue a second one, and it is on its way all the same.
    /// </summary>
    [Fact]
    public async Task AReportQueuedWhoseAuditLineFails_IsSentOnce()
    {
        await using var gateway = await RunningGateway.StartAsync(_world, services =>
            services.AddSingleton<IAuditLog>(sp => new FirstLineFails(sp.GetRequiredService<CountingAuditLog>(), "bounced")));

        await gateway.SendRawAsync("alice@example.test", Erin, "owed-2", "");

        // The report itself is delivered (to the outbox) and completed, as is the entry it is about.
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "alice@example.test"), TimeSpan.FromSeconds(30));
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("status").GetString() == "failed=1", TimeSpan.FromSeconds(30));
        await Task.Delay(TimeSpan.FromSeconds(2)); // a second attempt would come after 1 s
        var reports = Directory.GetFiles(_world.OutboxPath, "*.eml").Where(f => File.ReadAllText(f).Contains("multipart/report", StringComparison.Ordinal)).ToList();
        Assert.Single(reports);
        Assert.Single(gateway.AuditEvents(), e => RunningGateway.Is(e, "refused", Erin));
        // Nothing is left in the spool: no second report stranded in incoming/ without a wake-up.
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "incoming"), "*.json"));
    }
}
