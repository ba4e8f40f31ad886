namespace Gateway.Configuration;

public enum RelayTlsMode
{
    /// <summary>Plain SMTP, for an upstream on the same host or a trusted segment.</summary>
    None,
    /// <summary>STARTTLS when the upstream offers it, without certificate verification.</summary>
    Opportunistic,
    /// <summary>STARTTLS is mandatory and the upstream certificate must verify.</summary>
    Required,
}

public sealed class RelayOptions
{
    /// <summary>Upstream MTA. Empty: messages are written as .eml files into <see cref="Outbox"/>.</summary>
    public string Host { get; set; } = string.Empty;
    public int Port { get; set; } = 25;

    /// <summary>
    /// Tried in order when Host cannot be reached or answers 4xx at connect or EHLO ("host" or
    /// "host:port"; the port defaults to <see cref="Port"/>). Same TLS and AUTH settings.
    /// </summary>
    public string[] FallbackHosts { get; set; } = [];

    /// <summary>Connections open to the upstream at once: the limit on parallel relaying.</summary>
    public int MaxConnections { get; set; } = 8;

    /// <summary>A connection is closed after this many messages (and reopened when needed).</summary>
    public int MaxMessagesPerConnection { get; set; } = 100;

    /// <summary>An idle connection older than this is closed instead of reused.</summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);
    public RelayTlsMode TlsMode { get; set; } = RelayTlsMode.Opportunistic;
    /// <summary>
    /// With TlsMode Required: the CA the upstream's certificate must chain to (PEM), for an
    /// internal MTA with a company CA. Without it the system's trusted roots are used.
    /// </summary>
    public string? CaCertificatePath { get; set; }

    public string? Username { get; set; }
    public string? Password { get; set; }
    public string Outbox { get; set; } = "var/outbox";

    /// <summary>Name we announce in EHLO; defaults to Smtp:ServerName.</summary>
    public string? HeloName { get; set; }

    /// <summary>
    /// Send with BDAT (RFC 3030) when the upstream offers CHUNKING (Postfix 3.4+, Exchange): the
    /// message goes in one chunk of known size, with no dot-stuffing and one round trip less than
    /// DATA (no 354 to wait for).
    /// </summary>
    public bool Chunking { get; set; } = true;

    /// <summary>
    /// Send MAIL, the RCPTs and DATA (or BDAT) in one batch when the upstream offers PIPELINING
    /// (RFC 2920). Off: each command waits for its reply, for an upstream that offers it and
    /// then mishandles it (Postfix's smtp_discard_ehlo_keywords serves the same end).
    /// </summary>
    public bool Pipelining { get; set; } = true;

    /// <summary>Per SMTP command, except the reply to the end of the data (<see cref="FinalReplyTimeout"/>).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long the reply to the end of the data is waited for, at least <see cref="Timeout"/>. No
    /// setting (internal, so never bound): RFC 5321's 10 minutes is what an upstream may take, and a
    /// shorter wait only turns slow acceptances into duplicates. Tests shorten it.
    /// </summary>
    internal TimeSpan FinalReplyTimeout { get; init; } = Relay.UpstreamSettings.DataTerminationTimeout;
}
