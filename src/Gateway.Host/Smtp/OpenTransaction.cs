using SmtpServer;
using SmtpServer.Protocol;

namespace Gateway.Smtp;

/// <summary>
/// The sender and accepted recipients of the client's current transaction, kept in the session's
/// properties by <see cref="EnvelopeFilter"/>: SmtpServer keeps its own transaction internal, and a
/// session Gateway ends before any store sees it is audited with them (<see cref="SessionClosure"/>).
/// </summary>
internal sealed class OpenTransaction
{
    private const string Key = "Gateway:OpenTransaction";

    public string Sender { get; private init; } = string.Empty;
    public List<string> Recipients { get; } = [];

    /// <summary>A new transaction, after MAIL FROM was accepted.</summary>
    public static OpenTransaction Begin(ISessionContext context, string sender)
    {
        var transaction = new OpenTransaction { Sender = sender };
        context.Properties[Key] = transaction;
        return transaction;
    }

    public static OpenTransaction? Of(ISessionContext context) =>
        context.Properties.TryGetValue(Key, out var value) ? value as OpenTransaction : null;

    /// <summary>Forgets the transaction when it ends, so a later close does not name a message already answered.</summary>
    public static void Track(ISessionContext context) => context.CommandExecuted += EndWith;

    // DATA ends a transaction whatever its reply; RSET, EHLO and HELO abort it (RFC 5321 §4.1.4).
    private static void EndWith(object? sender, SmtpCommandEventArgs e)
    {
        if (e.Command is DataCommand or RsetCommand or EhloCommand or HeloCommand) e.Context.Properties.Remove(Key);
    }
}
