using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Pipeline;

/// <summary>Exponential backoff between attempts, capped, within the maximum lifetime of a message.</summary>
public sealed class RetrySchedule(IOptions<GatewayOptions> options)
{
    private readonly SpoolOptions _spool = options.Value.Spool;

    public TimeSpan DelayAfter(int attempts)
    {
        var factor = Math.Pow(2, Math.Clamp(attempts - 1, 0, 30));
        var delay = TimeSpan.FromTicks((long)Math.Min(_spool.FirstRetry.Ticks * factor, _spool.MaxRetryInterval.Ticks));
        return delay;
    }

    public bool IsExpired(DateTimeOffset receivedAt, DateTimeOffset now) => now - receivedAt >= _spool.MaximumLifetime;

    public DateTimeOffset ExpiresAt(DateTimeOffset receivedAt) => receivedAt + _spool.MaximumLifetime;

    /// <summary>Once per message, when Spool:DelayWarningAfter is set and has passed since receipt.</summary>
    public bool ShouldWarnOfDelay(Spool.SpoolEnvelope entry, DateTimeOffset now) =>
        _spool.DelayWarningAfter is { } after && entry.DelayWarningSent is null && now - entry.ReceivedAt >= after;
}
