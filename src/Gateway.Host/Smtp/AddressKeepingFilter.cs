using Gateway.Audit;
using Gateway.Harvest;
using Gateway.Outcomes;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>
/// The inbound endpoint's checks before DATA are the network (at connect), MAIL's declared
/// SIZE (<see cref="DeclaredSize"/>) and each recipient's domain (<see cref="RecipientDomains"/>:
/// a recipient outside the company's domains is refused, so the endpoint never relays elsewhere,
/// whatever the MTA in front of it passes on). Each address is kept as the client wrote it
/// (<see cref="EnvelopeAddress"/>), so a UTF-8 domain reaches the internal MTA whole.
/// </summary>
internal sealed class AddressKeepingFilter(long maxMessageSize, RecipientDomains domains, IAuditLog audit) : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        EnvelopeAddress.Forget(context);
        var line = Line(context);
        if (line is not null && DeclaredSize.Check(line, maxMessageSize) is { } refusal) throw new SmtpServer.Protocol.SmtpResponseException(refusal.ToResponse());
        EnvelopeAddress.KeepSender(context, from, line);
        return Task.FromResult(true);
    }

    public async Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var recipient = EnvelopeAddress.KeepRecipient(context, to, Line(context));
        if (domains.Includes(recipient)) return true;
        var reply = Failures.Reply(FailureKind.RelayNotPermitted, $"Relay access denied: {RecipientDomains.DomainOf(recipient)} is not one of Gateway:Harvest:Domains");
        await audit.TryWriteAsync(new AuditEvent("relay-refused")
        {
            Client = SpoolingMessageStore.ClientAddress(context), Sender = EnvelopeAddress.SenderOf(context, from), Recipient = recipient,
            Action = "refused", Reason = "inbound endpoint: " + reply.Text, Reply = reply.ToString(),
        });
        throw new SmtpServer.Protocol.SmtpResponseException(reply.ToResponse());
    }

    private static string? Line(ISessionContext context) => context.Pipe is NetworkDuplexPipe { State: var state } ? state.TakeEnvelopeLine() : null;
}
