using SmtpServer;
using SmtpServer.Mail;

namespace Gateway.Smtp;

/// <summary>
/// A MAIL or RCPT address as the client wrote it. SmtpServer reads the local part as UTF-8 but the
/// domain as ASCII, so a UTF-8 domain (SMTPUTF8, RFC 6531, which it offers) comes out with a "?"
/// for each of its octets beyond ASCII: "jörg@bücher.example" as "jörg@b??cher.example", which
/// would be relayed to a domain nobody has. A "?" is no domain character, so where one shows, the
/// domain is taken from the command line itself (<see cref="CommandLineReader"/> kept it, as UTF-8).
/// A local part that needs quotes gets them back (<see cref="QuotedLocalPart.Written"/>).
/// </summary>
internal static class EnvelopeAddress
{
    private const string SenderKey = "Gateway:Sender";
    private const string RecipientsKey = "Gateway:RecipientAddress";

    public static string Of(IMailbox mailbox, string? commandLine)
    {
        var local = QuotedLocalPart.Written(mailbox.User);
        if (mailbox.Host.Contains('?') && commandLine is not null && EnvelopeCommandLine.Path(commandLine) is { } path && path.LastIndexOf('@') is var at and >= 0)
            return string.Concat(local, path.AsSpan(at));
        return $"{local}@{mailbox.Host}";
    }

    /// <summary>A new transaction: the addresses kept for the last one go.</summary>
    public static void Forget(ISessionContext context)
    {
        context.Properties.Remove(SenderKey);
        context.Properties.Remove(RecipientsKey);
    }

    /// <summary>Keeps the sender as written (MAIL runs now); "" for the null sender.</summary>
    public static string KeepSender(ISessionContext context, IMailbox? from, string? commandLine)
    {
        var isNull = from is null || (string.IsNullOrEmpty(from.User) && string.IsNullOrEmpty(from.Host));
        var address = isNull ? string.Empty : Of(from!, commandLine);
        context.Properties[SenderKey] = address;
        return address;
    }

    /// <summary>Keeps a recipient as written (its RCPT runs now), by the mailbox object SmtpServer adds to its transaction next.</summary>
    public static string KeepRecipient(ISessionContext context, IMailbox to, string? commandLine)
    {
        var address = Of(to, commandLine);
        if (address == to.AsAddress()) return address; // as SmtpServer has it: nothing to keep
        if (!context.Properties.TryGetValue(RecipientsKey, out var kept))
            context.Properties[RecipientsKey] = kept = new Dictionary<IMailbox, string>(ReferenceEqualityComparer.Instance);
        ((Dictionary<IMailbox, string>)kept)[to] = address;
        return address;
    }

    /// <summary>The transaction's sender as the client wrote it.</summary>
    public static string SenderOf(ISessionContext context, IMailbox? from) =>
        context.Properties.TryGetValue(SenderKey, out var sender) && sender is string address ? address : from?.AsAddress() ?? string.Empty;

    /// <summary>A recipient of the transaction as the client wrote it.</summary>
    public static string RecipientOf(ISessionContext context, IMailbox to) =>
        context.Properties.TryGetValue(RecipientsKey, out var kept) && kept is Dictionary<IMailbox, string> addresses && addresses.TryGetValue(to, out var address)
            ? address
            : to.AsAddress();
}
