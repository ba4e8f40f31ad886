using System.Net;
using System.Text;
using Gateway.Configuration;
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
/// metadata; still, listen on loopback or an admin network.
/// </summary>
public sealed partial class MetricsEndpointService(
    IOptions<GatewayOptions> options,
    CountingAuditLog audit,
    FileSpool spool,
    AcceptJournal journal,
    TimeProvider time,
    ILogger<MetricsEndpointService> logger) : BackgroundService
{
    private readonly DateTimeOffset _started = time.GetUtcNow();

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (options.Value.Metrics.HttpPrefix is not { Length: > 0 } prefix) return;
        using var listener = new HttpListener();
        listener.Prefixes.Add(prefix);
        try
        {
            listener.Start();
        }
        catch (HttpListenerException e)
        {
            LogCannotListen(prefix, e.Message); // metrics are not worth stopping mail for
            return;
        }
        LogServing(prefix);
        using var registration = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            try
            {
                await AnswerAsync(context);
            }
            catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException)
            {
                // The scraper went away.
            }
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        using var response = context.Response;
        var name = context.Request.Url?.AbsolutePath.TrimEnd('/').Split('/').LastOrDefault();
        if (context.Request.HttpMethod != "GET" || name != "metrics")
        {
            response.StatusCode = 404;
            return;
        }
        var bytes = Encoding.UTF8.GetBytes(Render());
        response.ContentType = PrometheusText.ContentType;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }

    /// <summary>The metrics as text, read at each scrape (the spool's folders are counted then).</summary>
    public string Render()
    {
        var text = new PrometheusText();
        text.Metric("gateway_audit_events_total", "counter", "Audit log lines written since the start, by event and action (the audit log's own words).");
        foreach (var (auditEvent, action, count) in audit.Counts())
            text.Sample("gateway_audit_events_total", count, ("event", auditEvent), ("action", action));

        text.Metric("gateway_queue_messages", "gauge", "Messages held by the spool: in their first attempt (accept journal), queued in incoming/ (deferred, or moved there at a stop), held in hold/, kept in corrupt/.");
        text.Sample("gateway_queue_messages", journal.Count, ("state", "first-attempt"));
        text.Sample("gateway_queue_messages", CountEnvelopes(spool.Incoming), ("state", "queued"));
        text.Sample("gateway_queue_messages", CountEnvelopes(spool.Hold), ("state", "held"));
        text.Sample("gateway_queue_messages", CountEnvelopes(spool.Corrupt), ("state", "corrupt"));

        text.Metric("gateway_queue_oldest_seconds", "gauge", "Age of the oldest message queued in incoming/ (by its envelope file's time), 0 when there is none.");
        text.Sample("gateway_queue_oldest_seconds", OldestAge(spool.Incoming).TotalSeconds);

        text.Metric("gateway_start_time_seconds", "gauge", "When this gateway process started, in seconds since the Unix epoch.");
        text.Sample("gateway_start_time_seconds", _started.ToUnixTimeMilliseconds() / 1000.0);
        return text.ToString();
    }

    private static int CountEnvelopes(string folder) =>
        Directory.Exists(folder) ? Directory.EnumerateFiles(folder, "*.json").Count() : 0;

    private TimeSpan OldestAge(string folder)
    {
        if (!Directory.Exists(folder)) return TimeSpan.Zero;
        var oldest = new DirectoryInfo(folder).EnumerateFiles("*.json").Select(f => (DateTimeOffset?)f.CreationTimeUtc).Min();
        return oldest is { } first ? time.GetUtcNow() - first : TimeSpan.Zero;
    }

    [LoggerMessage(EventId = 9001, Level = LogLevel.Information, Message = "Serving metrics on {Prefix}metrics")]
    private partial void LogServing(string prefix);

    [LoggerMessage(EventId = 9002, Level = LogLevel.Error, Message = "Cannot serve metrics on {Prefix}: {Reason}; mail goes on without them")]
    private partial void LogCannotListen(string prefix, string reason);
}
