using System.Globalization;
using System.Text;
using Gateway.Configuration;
using Gateway.Http;
using Gateway.Spool;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Metrics;

/// <summary>
/// Serves GET <c>metrics</c> under Gateway:Metrics:HttpPrefix for Prometheus (or anything that
/// reads its text format): audited outcomes by event and action (<see cref="CountingAuditLog"/>),
/// the queue by state, the age of the oldest message waiting for a retry, and the process's start
/// time. Counts only: no address, subject or certificate appears, so the endpoint leaks no mail
/// metadata; still, listen on loopback or an admin network. A request naming a Host other than an IP
/// address, localhost, the prefix's name or Gateway:Metrics:AllowedHosts is answered 421.
/// </summary>
public sealed partial class MetricsEndpointService(
    IOptions<GatewayOptions> options,
    CountingAuditLog audit,
    FileSpool spool,
    AcceptJournal journal,
    TimeProvider time,
    ILogger<MetricsEndpointService> logger,
    HttpLimits? limits = null) : BackgroundService
{
    private readonly DateTimeOffset _started = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Metrics.HttpPrefix is not { Length: > 0 } prefix) return;
        // HttpListener let the two share a port; each of Gateway's endpoints listens on its own,
        // and the CRL, which partners fetch, keeps it. Warned, not refused: such settings ran before.
        if (options.Value.Ca is { Enabled: true, CrlHttpPrefix: { Length: > 0 } crl } && HttpPrefix.SamePort(crl, prefix))
        {
            LogCannotListen(prefix, $"its port is Gateway:Ca:CrlHttpPrefix's ({crl}); give Gateway:Metrics:HttpPrefix a port of its own");
            return;
        }
        // A scrape that fails (the spool could not be read) is a 500, never a stop. The Host is
        // checked (HttpHostCheck): bound to every address, a web page could read the metrics through DNS rebinding.
        await ReadOnlyHttpServer.RunAsync(prefix, limits ?? HttpLimits.Default, options.Value.Metrics.AllowedHosts ?? [], AnswerAsync, LogScrapeFailed, reason => LogCannotListen(prefix, reason), () => LogServing(prefix), stoppingToken);
    }

    private Task<HttpAnswer> AnswerAsync(string name, CancellationToken cancellationToken)
    {
        if (name != "metrics") return Task.FromResult(HttpAnswer.NotFound);
        // Rendered before anything is sent: a spool that cannot be read is a 500, not an empty 200
        // that a scraper would take for "every series gone".
        return Task.FromResult(HttpAnswer.Ok(PrometheusText.ContentType, Encoding.UTF8.GetBytes(Render())));
    }

    /// <summary>The metrics as text, read at each scrape (the spool's folders are counted then).</summary>
    public string Render()
    {
        var text = new PrometheusText();
        text.Metric("gateway_audit_events_total", "counter", "Audit log lines written since the start, by event and action (the audit log's own words).");
        foreach (var (auditEvent, action, count) in audit.Counts())
            text.Sample("gateway_audit_events_total", count, ("event", auditEvent), ("action", action));

        text.Metric("gateway_audit_write_failures_total", "counter", "Audit log lines that could not be written since the start (a full or failing disk): mail is then refused or deferred, not passed unaccounted.");
        text.Sample("gateway_audit_write_failures_total", audit.Failures);

        var queued = QueuedIds(spool.Incoming);
        text.Metric("gateway_queue_messages", "gauge", "Entries of the spool: messages in their first attempt in the accept journal, queued in incoming/ (deferred, moved there at a stop, or in a first attempt outside the journal), hold entries in hold/ (one per held copy), entries kept in corrupt/.");
        text.Sample("gateway_queue_messages", journal.Count, ("state", "first-attempt"));
        text.Sample("gateway_queue_messages", queued.Count, ("state", "queued"));
        text.Sample("gateway_queue_messages", CountEnvelopes(spool.Hold), ("state", "held"));
        text.Sample("gateway_queue_messages", CountEnvelopes(spool.Corrupt), ("state", "corrupt"));

        text.Metric("gateway_queue_oldest_seconds", "gauge", "Time since the oldest message queued in incoming/ was received (from its queue id), 0 when there is none.");
        text.Sample("gateway_queue_oldest_seconds", OldestAge(queued).TotalSeconds);

        text.Metric("gateway_start_time_seconds", "gauge", "When this gateway process started, in seconds since the Unix epoch.");
        text.Sample("gateway_start_time_seconds", _started.ToUnixTimeMilliseconds() / 1000.0);
        return text.ToString();
    }

    private static int CountEnvelopes(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*.json").Count() : 0;

    /// <summary>The ids of the envelopes in incoming/: names only, one listing, no stat per file.</summary>
    private static List<string> QueuedIds(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*.json").Select(f => Path.GetFileNameWithoutExtension(f)).Where(SpoolId.IsValid).ToList() : [];

    /// <summary>
    /// From the ids, which begin with the time the message was received (UTC, to the second): a
    /// file's own times change at every saved attempt (an envelope is replaced by a rename).
    /// </summary>
    private TimeSpan OldestAge(List<string> ids)
    {
        var oldest = ids.Min(StringComparer.Ordinal);
        if (oldest is null || !DateTime.TryParseExact(oldest[..14], "yyyyMMddHHmmss", CultureInfo.InvariantCulture,
                DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var received))
            return TimeSpan.Zero;
        var age = time.GetUtcNow() - new DateTimeOffset(received, TimeSpan.Zero);
        return age < TimeSpan.Zero ? TimeSpan.Zero : age;
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Serving metrics on {Prefix}metrics")]
    private partial void LogServing(string prefix);

    [LoggerMessage(EventId = 9003, Level = LogLevel.Warning, Message = "A metrics scrape failed; answered 500")]
    private partial void LogScrapeFailed(Exception exception);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Error, Message = "Cannot serve metrics on {Prefix}: {Reason}; mail goes on without them")]
    private partial void LogCannotListen(string prefix, string reason);
}
