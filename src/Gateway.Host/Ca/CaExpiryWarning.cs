using Gateway.Audit;
using Microsoft.Extensions.Logging;

namespace Gateway.Ca;

/// <summary>
/// Says, once a day per process and not once per mail, that the issuing CA ends within
/// Ca:RenewBeforeDays or has ended: from then on no certificate can be renewed to end later,
/// and after its end nothing is issued, so the admin must import a new CA. A warning in the log
/// (event 7006) and a <c>ca-expiring</c> audit line.
/// </summary>
internal sealed partial class CaExpiryWarning(ICertificateIssuer issuer, int renewBeforeDays, TimeProvider time, IAuditLog audit, ILogger logger)
{
    private static readonly TimeSpan Every = TimeSpan.FromDays(1);
    private readonly Lock _lock = new();
    private DateTimeOffset? _lastWarned;

    /// <summary>Warns if it is time to; returns the CA's end (UTC).</summary>
    public async Task<DateTime> CheckAsync(CancellationToken cancellationToken)
    {
        var ca = issuer.Chain[0];
        var end = ca.NotAfter.ToUniversalTime();
        var now = time.GetUtcNow();
        if (end > now.UtcDateTime.AddDays(renewBeforeDays) || !Due(now)) return end;
        var reason = end <= now.UtcDateTime
            ? $"the CA expired on {end:u}: no certificate is issued or renewed; import a new CA (gateway ca import)"
            : $"the CA expires on {end:u}, within Ca:RenewBeforeDays ({renewBeforeDays}): certificates end with it and are not renewed; import a new CA before then";
        LogExpiring(issuer.Name, reason);
        await audit.WriteAsync(new AuditEvent("ca-expiring")
        {
            Issuer = issuer.Name, Serial = ca.SerialNumber, SignerCertificate = ca.Thumbprint, NotAfter = new DateTimeOffset(end), Reason = reason,
        }, cancellationToken);
        return end;
    }

    private bool Due(DateTimeOffset now)
    {
        lock (_lock)
        {
            if (_lastWarned is { } last && now - last < Every) return false;
            _lastWarned = now;
            return true;
        }
    }

    [LoggerMessage(EventId = 7006, Level = LogLevel.Warning, Message = "Certificate automation: {Issuer}: {Reason}")]
    private partial void LogExpiring(string issuer, string reason);
}
