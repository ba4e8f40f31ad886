using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>
/// The inbound endpoint's checks before DATA are the network (at connect) and MAIL's declared
/// SIZE (<see cref="DeclaredSize"/>): this filter takes every sender and recipient, and keeps each
/// address as the client wrote it (<see cref="EnvelopeAddress"/>), so a UTF-8 domain reaches the
/// internal MTA whole.
/// </summary>
internal sealed class AddressKeepingFilter(long maxMessageSize) : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        EnvelopeAddress.Forget(context);
        var line = Line(context);
        if (line is not null && DeclaredSize.Check(line, maxMessageSize) is { } refusal) throw new SmtpServer.Protocol.SmtpResponseException(refusal.ToResponse());
        EnvelopeAddress.KeepSender(context, from, line);
        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        EnvelopeAddress.KeepRecipient(context, to, Line(context));
        return Task.FromResult(true);
    }

    private static string? Line(ISessionContext context) => context.Pipe is NetworkDuplexPipe { State: var state } ? state.TakeEnvelopeLine() : null;
}
