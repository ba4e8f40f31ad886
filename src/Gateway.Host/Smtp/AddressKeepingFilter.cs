using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>
/// The inbound endpoint's only check before DATA is the network (at connect): this filter takes
/// every sender and recipient, and keeps each address as the client wrote it
/// (<see cref="EnvelopeAddress"/>), so a UTF-8 domain reaches the internal MTA whole.
/// </summary>
internal sealed class AddressKeepingFilter : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        EnvelopeAddress.Forget(context);
        EnvelopeAddress.KeepSender(context, from, Line(context));
        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        EnvelopeAddress.KeepRecipient(context, to, Line(context));
        return Task.FromResult(true);
    }

    private static string? Line(ISessionContext context) => context.Pipe is NetworkDuplexPipe { State: var state } ? state.TakeEnvelopeLine() : null;
}
