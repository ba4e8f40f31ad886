using Gateway.Configuration;
using Gateway.Outcomes;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>Cheap checks before the queue: the number of recipients per transaction.</summary>
internal sealed class EnvelopeFilter(IOptions<GatewayOptions> options) : IMailboxFilter
{
    private const string RecipientCountKey = "Gateway:RecipientCount";
    private readonly int _maxRecipients = options.Value.Smtp.MaxRecipients;

    public Task<bool> CanAcceptFromAsync(ISessionContext context, IMailbox from, int size, CancellationToken cancellationToken)
    {
        context.Properties[RecipientCountKey] = 0;
        return Task.FromResult(true);
    }

    public Task<bool> CanDeliverToAsync(ISessionContext context, IMailbox to, IMailbox from, CancellationToken cancellationToken)
    {
        var count = context.Properties.TryGetValue(RecipientCountKey, out var value) ? (int)value : 0;
        if (count >= _maxRecipients)
        {
            // 452 asks the client to send the remaining recipients in another transaction (RFC 5321 §4.5.3.1.10).
            var reply = Failures.Reply(FailureKind.TooManyRecipients);
            throw new SmtpResponseException(new SmtpResponse((SmtpReplyCode)reply.Code, $"{reply.EnhancedCode} {reply.Text}"));
        }
        context.Properties[RecipientCountKey] = count + 1;
        return Task.FromResult(true);
    }
}
