using Gateway.Spool;

namespace Gateway.Relay;

/// <summary>
/// One copy's envelope as commands for this upstream, and each recipient's result read from the
/// replies. Addresses alike but for case go once (a second RCPT for the same mailbox would give
/// some upstreams two copies to deliver) and share the answer.
/// </summary>
internal sealed class RelayTransaction
{
    private readonly List<(string Address, int Command)> _recipients = [];
    private readonly List<RecipientRelayResult> _unwritable = [];
    private readonly List<string> _commands = [];

    private RelayTransaction(string mail) => Mail = mail;

    public string Mail { get; }

    /// <summary>The RCPT commands, each address once.</summary>
    public IReadOnlyList<string> Recipients => _commands;

    /// <summary>Set when no transaction can be made: every recipient's result, without a word sent.</summary>
    public IReadOnlyList<RecipientRelayResult>? Unwritable { get; private init; }

    /// <param name="recipients">Each address with its place in the copy's recipient list, where its DSN parameters are.</param>
    public static RelayTransaction Plan(string mailFrom, IReadOnlyList<(string Address, int Index)> recipients, UpstreamCapabilities upstream, RelayedContent content, DsnParameters? dsn)
    {
        var utf8 = upstream.SmtpUtf8 && (EnvelopeCommands.NeedsUtf8(mailFrom) || recipients.Any(r => EnvelopeCommands.NeedsUtf8(r.Address)));
        if (EnvelopeCommands.Path(mailFrom, utf8) is not { } sender)
            return new RelayTransaction(string.Empty) { Unwritable = recipients.Select(r => Utf8Refusal(r.Address, $"the sender <{mailFrom}>")).ToList() };

        var transaction = new RelayTransaction(EnvelopeCommands.Mail(sender, upstream, content, utf8, dsn));
        var commandOf = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        foreach (var (address, index) in recipients)
        {
            if (EnvelopeCommands.Path(address, utf8) is not { } path)
            {
                transaction._unwritable.Add(Utf8Refusal(address, $"<{address}>"));
                continue;
            }
            if (!commandOf.TryGetValue(path, out var command))
            {
                command = transaction._commands.Count;
                commandOf[path] = command;
                transaction._commands.Add(EnvelopeCommands.Rcpt(path, address, upstream, dsn?.For(index), utf8));
            }
            transaction._recipients.Add((address, command));
        }
        return transaction._commands.Count == 0 ? new RelayTransaction(string.Empty) { Unwritable = transaction._unwritable } : transaction;
    }

    /// <param name="dsnPassedOn">The upstream offers DSN: the client's NOTIFY went with each recipient, and its success reports are the upstream's job.</param>
    public IEnumerable<RecipientRelayResult> Results(TransactionReplies replies, bool dsnPassedOn)
    {
        foreach (var (address, command) in _recipients)
        {
            var reply = !replies.Mail.IsPositive ? replies.Mail
                : replies.Recipients[command] is not { } rcpt ? null
                : !rcpt.IsPositive ? rcpt
                : replies.Data;
            if (reply is not { } answer)
                yield return new RecipientRelayResult(address, RelayOutcome.Temporary, replies.Interruption is { } why
                    ? $"451 4.4.1 the transaction with the upstream broke off: {why}"
                    : "451 4.4.1 the upstream ended the session before the transaction did");
            else if (answer.IsPositive)
                yield return new RecipientRelayResult(address, RelayOutcome.Accepted, answer.ToString(), dsnPassedOn);
            else
                yield return RecipientRelayResult.Refused(address, answer.Code, answer.ToString());
        }
        foreach (var result in _unwritable) yield return result;
    }

    // An address beyond ASCII needs SMTPUTF8 (RFC 6531); an upstream without it cannot take it, now or on a retry.
    private static RecipientRelayResult Utf8Refusal(string recipient, string what) =>
        new(recipient, RelayOutcome.Permanent, $"550 5.6.7 {what} needs SMTPUTF8, which the upstream does not offer");
}
