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

    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);
}
