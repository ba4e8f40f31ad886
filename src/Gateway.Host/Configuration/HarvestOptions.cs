namespace Gateway.Configuration;

/// <summary>
/// The inbound endpoint: the company's inbound mail passes through it (or a copy is sent to it);
/// mail encrypted to our users' keys is decrypted (<see cref="Decrypt"/>), the certificates of
/// signed messages are harvested, and every message is passed on, otherwise unchanged.
/// </summary>
public sealed class HarvestOptions
{
    public bool Enabled { get; set; }
    public string Address { get; set; } = "127.0.0.1";
    public int Port { get; set; } = 2526;

    /// <summary>CIDR blocks that may send to the inbound endpoint. Null: loopback only.</summary>
    public string[]? AllowedNetworks { get; set; }

    /// <summary>The internal MTA (mailbox server) that receives the message after harvesting; required when enabled.</summary>
    public string UpstreamHost { get; set; } = string.Empty;
    public int UpstreamPort { get; set; } = 25;

    /// <summary>Per SMTP command to the internal MTA, except the reply to the end of the data (<see cref="ForwardTimeout"/>).</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>
    /// How long one message's forward may take in all, the internal MTA's reply to the end of the
    /// data included (at least 3 × <see cref="Timeout"/>): a minute less than the 10 minutes the
    /// sender waits for our reply to its own final dot (RFC 5321 §4.5.3.2.6), since it gets that
    /// reply only once the internal MTA answered. No setting (internal, so never bound): longer, the
    /// sender gives up first; shorter, it is told 451 for a message the internal MTA may have queued,
    /// sends it again, and the internal MTA delivers it twice. Tests shorten it.
    /// </summary>
    internal TimeSpan ForwardTimeout { get; init; } = TimeSpan.FromMinutes(9);

    /// <summary>
    /// Decrypt S/MIME mail encrypted to keys Gateway holds for internal users (their signing
    /// identities, and every key the CA issued them) before passing it on, when the message was
    /// encrypted for every one of its envelope recipients.
    /// </summary>
    public bool Decrypt { get; set; } = true;

    /// <summary>
    /// Decrypt also content that is not signed (or whose signature does not verify). Off by
    /// default: AES-CBC has no integrity, and ciphertext bent by an attacker (EFAIL's CBC
    /// gadgets) would reach users as plaintext the gateway vouched for.
    /// </summary>
    public bool DecryptUnsigned { get; set; }

    /// <summary>
    /// The company's domains (<c>example.com</c>, <c>*.example.com</c> for its subdomains, <c>*</c>
    /// for any): a recipient in another is refused at RCPT (550 5.7.1), so the endpoint never relays
    /// elsewhere. Null or empty: any domain, with a warning at start.
    /// </summary>
    public string[]? Domains { get; set; }

    public IReadOnlyList<string> EffectiveAllowedNetworks => AllowedNetworks ?? SmtpOptions.DefaultAllowedNetworks;
}
