using System.Collections.Concurrent;
using Gateway.Audit;

namespace Gateway.Metrics;

/// <summary>
/// The audit log, counting every line it writes by event and action: each outcome the gateway
/// accounts for (received, signed+encrypted, refused, held, deferred, certificate-harvested, …)
/// becomes a metric without a counter at each place that decides it, and the numbers agree with
/// the audit log of this process by construction (since its start; the `gateway` commands' own
/// lines are theirs). Lines that could not be written are not counted.
/// </summary>
public sealed class CountingAuditLog(IAuditLog inner) : IAuditLog
{
    private readonly ConcurrentDictionary<(string Event, string Action), long> _counts = new();
    private long _failures;

    /// <summary>Lines that could not be written: a broken audit disk must show, not only stop the counters.</summary>
    public long Failures => Interlocked.Read(ref _failures);

    public async ValueTask WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken)
    {
        try
        {
            await inner.WriteAsync(auditEvent, cancellationToken);
        }
        catch
        {
            Interlocked.Increment(ref _failures);
            throw;
        }
        _counts.AddOrUpdate((auditEvent.Event, Label(auditEvent.Action)), 1, (_, n) => n + 1);
    }

    /// <summary>
    /// The action as a label when it is one of the audit log's words ("signed+encrypted", "relayed
    /// unchanged", "moved to corrupt/"); "other" for free text (a certificate's enrolment trigger
    /// names a renewal date or an address pattern): a label must neither grow without bound nor
    /// carry an address.
    /// </summary>
    private static string Label(string? action) =>
        action is null ? "" : action.Length <= 40 && action.All(c => c is (>= 'a' and <= 'z') or '+' or ' ' or '/' or '-') ? action : "other";

    /// <summary>The counts so far, by event and action (empty when the line had none).</summary>
    public IReadOnlyList<(string Event, string Action, long Count)> Counts() =>
        _counts.Select(c => (c.Key.Event, c.Key.Action, c.Value)).OrderBy(c => c.Event, StringComparer.Ordinal).ThenBy(c => c.Action, StringComparer.Ordinal).ToList();
}
