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

    /// <summary>Absolute limit for receiving one message after the 354, so a client trickling bytes cannot hold a connection.</summary>
    public TimeSpan DataTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>
    /// Error replies per session before we answer 421 and close (Postfix's smtpd_hard_error_limit).
    /// The 452 for a recipient over <see cref="MaxRecipients"/> is not one.
    /// </summary>
    public int MaxErrors { get; set; } = 10;

    /// <summary>Simultaneous connections per client address (Postfix's smtpd_client_connection_count_limit).</summary>
    public int MaxConnectionsPerClient { get; set; } = 50;

    /// <summary>Open connections in all, per listener; one more gets 421 before the greeting. Each holds a file descriptor.</summary>
    public int MaxConnections { get; set; } = 1000;

    /// <summary>What a bare LF in DATA gets: Reject (550 5.5.2) or Normalize (stored as CRLF). Bare CR is always refused.</summary>
    public BareNewlineHandling BareNewline { get; set; } = BareNewlineHandling.Reject;

    /// <summary>Size of the header block, in octets, above which a message is refused (Postfix's header_size_limit).</summary>
    public int MaxHeaderSize { get; set; } = 102400;

    /// <summary>Received headers a message may carry; one more is a mail loop (Postfix's hopcount_limit).</summary>
    public int MaxHops { get; set; } = 50;

    /// <summary>How many of our own X-Gateway-Loop markers a message may already carry when it comes back.</summary>
    public int MaxLoopMarkers { get; set; } = 1;

    /// <summary>Domains our senders may use in MAIL FROM; null or empty means any.</summary>
    public string[]? SenderDomains { get; set; }

    /// <summary>Addresses or domains allowed in MAIL FROM although not in <see cref="SenderDomains"/>.</summary>
    public string[]? AllowedSenders { get; set; }

    public SmtpAuthOptions Auth { get; set; } = new();

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

public enum BareNewlineHandling
{
    Reject,
    Normalize,
}

public sealed class SmtpAuthOptions
{
    public static readonly string[] AnyNetwork = ["0.0.0.0/0", "::/0"];

    /// <summary>File of <c>user:$pbkdf2-sha256$iterations$salt$hash</c> lines; AUTH is offered (over TLS only) when set.</summary>
    public string? UsersFile { get; set; }

    /// <summary>Networks from which clients may connect to authenticate. Null: any, when AUTH is on.</summary>
    public string[]? Networks { get; set; }

    /// <summary>
    /// An authenticated client (outside AllowedNetworks) may use as MAIL FROM only the addresses its
    /// user owns (<see cref="Gateway.Smtp.SmtpUsers.Owns"/>): Gateway signs with that sender's key,
    /// so one user must not send, and sign, as another (Postfix's reject_sender_login_mismatch).
    /// </summary>
    public bool RequireOwnSender { get; set; } = true;

    public bool Enabled => !string.IsNullOrEmpty(UsersFile);

    public IReadOnlyList<string> EffectiveNetworks => Networks ?? AnyNetwork;
}
