namespace Gateway.Audit;

public static class AuditLogExtensions
{
    /// <summary>
    /// For a line about something that is answered either way (a refusal, a session's end, a
    /// message already passed on): a log that cannot be written must not turn the answer into a
    /// different one. The failure is returned, not thrown; the audit log reports it itself.
    /// </summary>
    /// <returns>False when the line could not be written.</returns>
    public static async ValueTask<bool> TryWriteAsync(this IAuditLog audit, AuditEvent auditEvent)
    {
        try
        {
            await audit.WriteAsync(auditEvent, CancellationToken.None);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException) // disposed: a session outlived the stop
        {
            return false;
        }
    }
}
