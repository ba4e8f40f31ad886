using System.Net;
using Gateway.Metrics;
using Gateway.Testing;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Http;

namespace Gateway.Tests.Metrics;

/// <summary>
/// The Prometheus endpoint: audited outcomes counted by event and action, the queue by state,
/// nothing that names a person, and nothing served but GET metrics.
/// </summary>
public sealed class MetricsEndpointTests : IDisposable
{
    private readonly GatewayWorld _world = new();
    private readonly int _port = FreePort.Next();

    public MetricsEndpointTests() => _world.Settings["Gateway:Metrics:HttpPrefix"] = $"http://127.0.0.1:{_port}/";

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task Metrics_CountWhatTheAuditLogSays_AndTheQueue_WithoutNamingAnyone()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "counted"), "alice@example.test", "bob@partner.test");
        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@partner.test", "refused"), "alice@example.test", "dave@partner.test");
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "bob@partner.test"));
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("status").GetString()!.Contains("failed"));

        using var http = new HttpClient();
        var response = await http.GetAsync($"http://127.0.0.1:{_port}/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        // The listener closes the connection after each answer: the answer must say so, or the client
        // reuses the closed connection and a request with a body ends early (ResponseEnded, once in CI).
        Assert.True(response.Headers.ConnectionClose);
        Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString());
        var text = await response.Content.ReadAsStringAsync();

        Assert.Contains("# TYPE gateway_audit_events_total counter\n", text);
        Assert.Contains("gateway_audit_events_total{event=\"received\",action=\"queued\"} 2\n", text);
        Assert.Contains("gateway_audit_events_total{event=\"delivered\",action=\"signed+encrypted\"} 1\n", text);
        Assert.Contains("gateway_audit_events_total{event=\"refused\",action=\"refused\"} 1\n", text);
        Assert.Contains("gateway_queue_messages{state=\"first-attempt\"} 0\n", text);
        Assert.Contains("gateway_queue_messages{state=\"queued\"} 0\n", text);
        Assert.Contains("gateway_start_time_seconds ", text);
        Assert.Contains("gateway_audit_write_failures_total 0\n", text);
        // The same counts as the audit log itself.
        Assert.Equal(gateway.AuditEvents().Count(e => RunningGateway.Is(e, "decision")),
            text.Split('\n').Where(l => l.StartsWith("gateway_audit_events_total{event=\"decision\"")).Sum(l => int.Parse(l.Split(' ')[^1])));
        Assert.DoesNotContain("@", text);

        Assert.Equal(HttpStatusCode.NotFound, (await http.GetAsync($"http://127.0.0.1:{_port}/other")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await http.PostAsync($"http://127.0.0.1:{_port}/metrics", new StringContent(""))).StatusCode);
    }

    [Fact]
    public async Task DeferredMessage_IsCountedAsQueued_WithItsAgeFromItsQueueId()
    {
        await using var upstream = new ReservedPort(); // bound, never listening: the attempt defers
        _world.Settings["Gateway:Spool:Journal"] = "false";
        _world.RelayTo(upstream.Port);
        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.SendAsync(RunningGateway.NewMessage("dave@other.test", "erin@elsewhere.test", "waiting"), "dave@other.test", "erin@elsewhere.test");
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", "erin@elsewhere.test"));
        await Task.Delay(1100); // the queue id counts whole seconds

        using var http = new HttpClient();
        var text = await http.GetStringAsync($"http://127.0.0.1:{_port}/metrics");
        Assert.Contains("gateway_queue_messages{state=\"queued\"} 1\n", text);
        var oldest = double.Parse(text.Split('\n').Single(l => l.StartsWith("gateway_queue_oldest_seconds ")).Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(oldest, 1, 60);
    }

    [Fact]
    public async Task MetricsOnAnIPv6Literal_AreServedThere()
    {
        HttpPeer.RequireIPv6Loopback();
        _world.Settings["Gateway:Metrics:HttpPrefix"] = $"http://[::1]:{_port}/";
        await using var gateway = await RunningGateway.StartAsync(_world);

        (await HttpPeer.ConnectWhenListeningAsync(_port, from: "::1")).Dispose();
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        var response = await http.GetAsync($"http://[::1]:{_port}/metrics");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Contains("gateway_start_time_seconds ", await response.Content.ReadAsStringAsync());
    }

    /// <summary>
    /// DNS rebinding: a page on attacker.example whose name is made to resolve to the gateway has the
    /// browser fetch the metrics with its own name in Host. Prometheus scrapes by address or a listed name.
    /// </summary>
    [Fact]
    public async Task ScrapeNamingAnotherHost_IsAnswered421_WhileAddressesLocalhostAndAllowedHostsAreServed()
    {
        _world.Settings["Gateway:Metrics:AllowedHosts:0"] = "metrics.example.com";
        await using var gateway = await RunningGateway.StartAsync(_world);
        (await HttpPeer.ConnectWhenListeningAsync(_port)).Dispose();

        Assert.Equal("HTTP/1.1 421 Misdirected Request", await HttpPeer.GetStatusAsync(_port, "/metrics", host: $"attacker.example:{_port}"));
        Assert.Equal("HTTP/1.1 200 OK", await HttpPeer.GetStatusAsync(_port, "/metrics", host: $"127.0.0.1:{_port}"));
        Assert.Equal("HTTP/1.1 200 OK", await HttpPeer.GetStatusAsync(_port, "/metrics", host: $"localhost:{_port}"));
        Assert.Equal("HTTP/1.1 200 OK", await HttpPeer.GetStatusAsync(_port, "/metrics", host: $"metrics.example.com:{_port}"));
    }

    [Fact]
    public async Task PrefixThatCannotBeBound_LeavesMailRunning()
    {
        using var occupied = new System.Net.Sockets.TcpListener(IPAddress.Loopback, _port);
        occupied.Start();
        await using var gateway = await RunningGateway.StartAsync(_world);
        Assert.StartsWith("2.0.0 queued as", await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "no metrics"), "alice@example.test", "bob@partner.test"));
        await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "bob@partner.test"));
    }

    [Fact]
    public async Task FreeTextActions_AreCountedAsOther_SoNoLabelCarriesAnAddress()
    {
        var counting = new CountingAuditLog(new Gateway.Tests.Ca.CaFixture.RecordingAudit());
        await counting.WriteAsync(new Gateway.Audit.AuditEvent("certificate-issued") { Action = "renewal: 'alice@example.test' expires 2026-12-01" }, default);
        await counting.WriteAsync(new Gateway.Audit.AuditEvent("delivered") { Action = "signed+encrypted" }, default);
        Assert.Equal([("certificate-issued", "other", 1L), ("delivered", "signed+encrypted", 1L)], counting.Counts());
    }

    [Fact]
    public async Task LineThatCannotBeWritten_IsCountedAsAFailure_NotAsWritten()
    {
        var counting = new CountingAuditLog(new Unwritable());
        await Assert.ThrowsAsync<IOException>(() => counting.WriteAsync(new Gateway.Audit.AuditEvent("received") { Action = "queued" }, default).AsTask());
        Assert.Equal(1, counting.Failures);
        Assert.Empty(counting.Counts());
    }

    private sealed class Unwritable : Gateway.Audit.IAuditLog
    {
        public ValueTask WriteAsync(Gateway.Audit.AuditEvent auditEvent, CancellationToken cancellationToken) => ValueTask.FromException(new IOException("No space left on device"));
    }

    [Fact]
    public void LabelValues_EscapeQuotesBackslashesAndLineFeeds()
    {
        var text = new PrometheusText().Metric("m", "counter", "help").Sample("m", 3, ("action", "a \"b\" \\ c\nd")).ToString();
        Assert.Equal("# HELP m help\n# TYPE m counter\nm{action=\"a \\\"b\\\" \\\\ c\\nd\"} 3\n", text);
    }
}
