namespace Gateway.Smtp;

/// <summary>The per-connection limits the pipe enforces below SmtpServer (which has no such settings).</summary>
internal sealed record SmtpSessionLimits(string ServerName, int MaxErrors, TimeSpan DataTimeout, long MaxMessageSize, TimeSpan CommandTimeout)
{
    /// <summary>The reply to a client that kept us waiting past <see cref="CommandTimeout"/>.</summary>
    public string TimeoutReply => $"421 4.4.2 {ServerName} Error: timeout exceeded";

    /// <summary>RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF.</summary>
    public const int MaxCommandLine = 512;

    /// <summary>
    /// MAIL and RCPT lines: RFC 5321 §4.5.3.1.4 lets each extension's parameters lengthen them, and
    /// DSN's alone may add over 500 (ORCPT) to RCPT; Postfix's line_length_limit is this.
    /// </summary>
    public const int MaxEnvelopeCommandLine = 2048;

    /// <summary>RFC 4954 §4: an AUTH command line (with its initial response), and each answer to a 334, may be up to 12288 octets.</summary>
    public const int MaxAuthLine = 12288;

    /// <summary>
    /// Failed AUTHs (wrong user or password) one connection may have before it is closed with a 421
    /// (<see cref="SmtpServerReplies.ClosureAfter"/>): a guesser must reconnect, and each connection
    /// is audited. SmtpServer counts them (MaxAuthenticationAttempts); this is its default, set so it stays.
    /// </summary>
    public const int MaxFailedAuthentications = 3;
}
