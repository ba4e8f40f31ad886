namespace Gateway.Configuration;

public sealed class MetricsOptions
{
    /// <summary>
    /// When set (e.g. <c>http://127.0.0.1:9310/</c>), Prometheus metrics are served under this
    /// prefix (HttpListener's form: http://HOST:PORT/PATH/), at <c>metrics</c>: counts of audited outcomes and of the queue. Off when empty.
    /// </summary>
    public string? HttpPrefix { get; set; }

    /// <summary>
    /// Names a scrape's Host may carry besides an IP address, localhost and the prefix's own name
    /// (e.g. <c>gateway.example.com</c> behind a name); any other is answered 421, against DNS rebinding.
    /// </summary>
    public string[]? AllowedHosts { get; set; }
}
