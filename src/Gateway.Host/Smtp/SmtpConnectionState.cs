using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// What the input and output sides of one connection share: whether the client is in DATA (the
/// 354 was sent and the reply to the data not yet), whether it answers a 334 (AUTH), the error
/// count, the open transaction, and whether we closed it (told once to <paramref name="onClosed"/>, for the audit).
/// </summary>
internal sealed class SmtpConnectionState(SmtpSessionLimits limits, Action<SessionClosure>? onClosed = null)
{
    public SmtpSessionLimits Limits { get; } = limits;
    public bool InData { get; private set; }

    /// <summary>Set when DATA starts; the reader hands it to SmtpServer so the data begins with a line end.</summary>
    public bool DataPrefixPending { get; set; }
    public DateTimeOffset DataDeadline { get; private set; }
    public int Errors { get; private set; }

    /// <summary>The last reply was a 334: the next line answers it in an AUTH exchange, and is no command.</summary>
    public bool AwaitingAuthAnswer { get; private set; }

    /// <summary>When the answer to the last 334 must have come, as a command line must within CommandTimeout.</summary>
    public DateTimeOffset AuthAnswerDeadline { get; private set; }

    public bool Closed { get; private set; }
    public OpenTransaction Transaction { get; } = new();

    /// <summary>
    /// The MAIL or RCPT command line SmtpServer consumed last, parameters and all, until the
    /// command reads it (<see cref="EnvelopeFilter"/>) or another command line is consumed.
    /// </summary>
    public string? EnvelopeLine { get; set; }

    /// <summary>The MAIL or RCPT line for the command that runs now; it is not there for the next one.</summary>
    public string? TakeEnvelopeLine()
    {
        var line = EnvelopeLine;
        EnvelopeLine = null;
        return line;
    }

    /// <param name="reply">The reply's last line, code first.</param>
    public void OnReply(int code, string reply)
    {
        AwaitingAuthAnswer = code == 334;
        if (AwaitingAuthAnswer) AuthAnswerDeadline = DateTimeOffset.UtcNow + Limits.CommandTimeout;
        Transaction.OnReply(code, answersData: InData && code != 354);
        if (code == 354)
        {
            InData = true;
            DataPrefixPending = true;
            DataDeadline = DateTimeOffset.UtcNow + Limits.DataTimeout;
            return;
        }
        InData = false;
        DataPrefixPending = false;
        if (code >= 400 && code != 421 && !IsRecipientOvershoot(reply)) Errors++;
    }

    /// <summary>
    /// The 452 for a recipient over Smtp:MaxRecipients is no error: it asks the client to send that
    /// recipient in a later transaction (RFC 5321 §4.5.3.1.10). A pipelining client sends all its
    /// RCPTs before it reads a reply, so counting them ended the transaction with a 421, and every
    /// retry of it. Postfix counts them only past smtpd_recipient_overshoot_limit (1000); here they
    /// cost no more than a NOOP, and Smtp:SessionTimeout still ends the session.
    /// </summary>
    private static bool IsRecipientOvershoot(string reply) =>
        Failures.Reply(FailureKind.TooManyRecipients) is var overshoot
        && reply.StartsWith($"{overshoot.Code} {overshoot.EnhancedCode} ", StringComparison.Ordinal);

    public bool TooManyErrors => Errors >= Limits.MaxErrors;

    public void Close(SessionClosure closure)
    {
        if (Closed) return;
        Closed = true;
        onClosed?.Invoke(closure with { Sender = Transaction.Sender, Recipients = [.. Transaction.Recipients] });
    }
}
