using Gateway.Audit;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Outcomes;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>
/// Checks before the queue: who may send at all (a trusted network, or AUTH over TLS), which
/// sender addresses are ours and, for an authenticated user, its own, MAIL's parameters
/// (<see cref="DeclaredSize"/>, <see cref="MailParameters"/>), the number of
/// recipients per transaction, and each recipient's DSN parameters (kept for the store:
/// <see cref="RecipientDsnOf"/>).
/// </summary>
internal sealed class EnvelopeFilter(IOptions<GatewayOptions> options, IAuditLog audit, SenderBinding binding) : IMailboxFilter
{
    private const string RecipientCountKey = "Gateway:RecipientCount";
    private const string RecipientDsnKey = "Gateway:RecipientDsn";
    private readonly int _maxRecipients = options.Value.Smtp.MaxRecipients;
    private readonly long _maxMessageSize = options.Value.Smtp.MaxMessageSize;
    private readonly SenderRule _senders = new(options.Value.Smtp.SenderDomains, options.Value.Smtp.AllowedSenders);

    public async Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        context.Properties[RecipientCountKey] = 0;
        context.Properties.Remove(RecipientDsnKey);
        EnvelopeAddress.Forget(context);
        var line = context.Pipe is NetworkDuplexPipe { State: var state } ? state.TakeEnvelopeLine() : null;
        if (line is not null && (DeclaredSize.Check(line, _maxMessageSize) ?? MailParameters.Check(line)) is { } malformed) throw Refusal(malformed);
        var address = EnvelopeAddress.KeepSender(context, from, line);
        if (!GuardedEndpointListener.IsTrusted(context) && context.Authentication?.IsAuthenticated != true)
            await RefuseAsync(context, FailureKind.AuthenticationRequired, address, "relay-refused");
        // Only <> is the null sender: <""@domain> has an empty local part, and would pass every
        // check below as if it were <> while the spool, the policy and the relay see "@domain".
        if (address.Length > 0 && string.IsNullOrEmpty(from!.User)) await RefuseAsync(context, FailureKind.SenderAddressInvalid, address, "sender-refused");
        if (!_senders.Allows(address)) await RefuseAsync(context, FailureKind.SenderNotAllowed, address, "sender-refused");
        // A trusted network's MTA vouches for its own users; a client that relays on its login only
        // sends as what that login owns.
        if (binding.BoundUser(context) is { } user && !binding.Users!.Owns(user, address))
            await RefuseAsync(context, FailureKind.SenderNotOwned, address, "sender-refused");
        return true;
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var count = context.Properties.TryGetValue(RecipientCountKey, out var value) ? (int)value : 0;
        if (count >= _maxRecipients)
        {
            // 452 asks the client to send the remaining recipients in another transaction (RFC 5321 §4.5.3.1.10).
            throw Refusal(Failures.Reply(FailureKind.TooManyRecipients));
        }
        if (string.IsNullOrEmpty(to.User)) throw Refusal(Failures.Reply(FailureKind.RecipientAddressInvalid));
        var line = context.Pipe is NetworkDuplexPipe { State: var state } ? state.TakeEnvelopeLine() : null;
        var (dsn, refusal) = line is null ? (null, null) : RcptParameters.Parse(line);
        if (refusal is not null) throw Refusal(refusal);
        EnvelopeAddress.KeepRecipient(context, to, line);
        if (dsn is not null)
        {
            // By the mailbox object SmtpServer adds to its transaction next: the same address twice keeps each its own.
            if (!context.Properties.TryGetValue(RecipientDsnKey, out var kept))
                context.Properties[RecipientDsnKey] = kept = new Dictionary<IMailbox, RecipientDsn>(ReferenceEqualityComparer.Instance);
            ((Dictionary<IMailbox, RecipientDsn>)kept)[to] = dsn;
        }
        context.Properties[RecipientCountKey] = count + 1;
        return Task.FromResult(true);
    }

    /// <summary>Each recipient's NOTIFY and ORCPT, in the order of <paramref name="recipients"/> (SmtpServer's transaction); null when none had any.</summary>
    public static IReadOnlyList<RecipientDsn?>? RecipientDsnOf(ISessionContext context, IEnumerable<IMailbox> recipients) =>
        context.Properties.TryGetValue(RecipientDsnKey, out var kept) && kept is Dictionary<IMailbox, RecipientDsn> dsn
            ? recipients.Select(r => dsn.GetValueOrDefault(r)).ToList()
            : null;

    /// <param name="sender">As the client wrote it (<see cref="EnvelopeAddress"/>).</param>
    private async Task RefuseAsync(ISessionContext context, FailureKind kind, string sender, string auditEvent)
    {
        var reply = Failures.Reply(kind);
        await audit.TryWriteAsync(new AuditEvent(auditEvent)
        {
            Client = SpoolingMessageStore.ClientAddress(context),
            Sender = sender,
            User = context.Authentication?.IsAuthenticated == true ? context.Authentication.User : null,
            Action = "refused",
            Reason = reply.Text,
            Reply = reply.ToString(),
        });
        throw Refusal(reply);
    }

    private static SmtpResponseException Refusal(SmtpReply reply) =>
        new(reply.ToResponse());
}
