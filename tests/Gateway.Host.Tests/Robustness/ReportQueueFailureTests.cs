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

    private sealed class FirstSuppressedLineFails(IAuditLog inner) : IAuditLog
    {
        private int _failed;

        public ValueTask WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken) =>
            auditEvent.Event == "bounce-suppressed" && Interlocked.Exchange(ref _failed, 1) == 0
                ? ValueTask.FromException(new IOException("No space left on device (simulated)"))
                : inner.WriteAsync(auditEvent, cancellationToken);
    }

    [Theory]
    [InlineData("true")]
    [InlineData("false")]
    public async Task AReportThatCannotBeDealtWith_StaysOwed_TheNextAttemptDealsWithIt_AndTheRecipientStaysFailed(string journal)
    {
        _world.Settings["Gateway:Spool:Journal"] = journal;
        await using var gateway = await RunningGateway.StartAsync(_world, services =>
            services.AddSingleton<IAuditLog>(sp => new FirstSuppressedLineFails(sp.GetRequiredService<CountingAuditLog>())));

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
}
