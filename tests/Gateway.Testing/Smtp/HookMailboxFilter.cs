using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Gateway.Testing.Smtp;

/// <summary>Lets a test reject chosen recipients at RCPT with any reply it likes.</summary>
internal sealed class HookMailboxFilter(CapturingSmtpSink sink) : IMailboxFilter
{
    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size,
        CancellationToken cancellationToken)
    {
        sink.NoteMailSession(context);
        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from,
        CancellationToken cancellationToken)
    {
        // Returning false would always answer 550; throwing is SmtpServer's way to send other codes (e.g. 450).
        var response = sink.OnRcpt?.Invoke(to.AsAddress());
        return response is null ? Task.FromResult(true) : throw new SmtpResponseException(response);
    }
}
