namespace Gateway.Audit;

public interface IAuditLog
{
    /// <summary>Records the event; returns once it is written (the audit is not best-effort).</summary>
    ValueTask WriteAsync(AuditEvent auditEvent, CancellationToken cancellationToken);
}
