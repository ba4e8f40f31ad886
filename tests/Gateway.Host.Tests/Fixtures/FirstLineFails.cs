using Gateway.Audit;

namespace Gateway.Tests.Fixtures;

/// <summary>An audit log whose first line of one event cannot be written, as on a disk that filled up for a moment; every other line is written.</summary>
public sealed class FirstLineFails(IAuditLog inner, string eventName) : IAuditLog
{
    private int _failed;

    public ValueTask WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken) =>
        auditEvent.Event == eventName && Interlocked.Exchange(ref _failed, 1) == 0
            ? ValueTask.FromException(new IOException("No space left on device (simulated)"))
            : inner.WriteAsync(auditEvent, cancellationToken);
}
