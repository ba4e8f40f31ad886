namespace Gateway.Configuration;

public sealed class SmtpOptions
{
    public static readonly string[] DefaultAllowedNetworks = ["127.0.0.0/8", "::1/128"];

    public string Address { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 2525;

    /// <summary>CIDR blocks whose clients may relay through us. Null means the loopback default.</summary>
    public string[]? AllowedNetworks { get; set; }

    /// <summary>Name in the greeting and in EHLO. The greeting never carries a version.</summary>
    public string ServerName { get; set; } = "gateway.localdomain";

    public long MaxMessageSize { get; set; } = 50 * 1024 * 1024;
    public int MaxRecipients { get; set; } = 1000;

    /// <summary>
    /// Absolute lifetime of one SMTP connection (SmtpServer's session timeout). An internal MTA
    /// keeps connections open and sends many messages, so this is long.
    /// </summary>
    public TimeSpan SessionTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How long we wait for the next command before we close an idle connection.</summary>
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(5);

    public TlsOptions Tls { get; set; } = new();

    public IReadOnlyList<string> EffectiveAllowedNetworks => AllowedNetworks ?? DefaultAllowedNetworks;
}

public sealed class TlsOptions
{
    /// <summary>PKCS#12 file or PEM certificate of the server; STARTTLS is offered only when set.</summary>
    public string? CertificatePath { get; set; }

    /// <summary>PEM private key, when <see cref="CertificatePath"/> is a PEM certificate.</summary>
    public string? KeyPath { get; set; }

    /// <summary>PKCS#12 password; prefer the environment variable Gateway__Smtp__Tls__CertificatePassword.</summary>
    public string? CertificatePassword { get; set; }
}
