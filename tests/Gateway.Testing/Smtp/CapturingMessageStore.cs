using System.Buffers;
using SmtpServer;
using SmtpServer.Mail;
using SmtpServer.Protocol;
using SmtpServer.Storage;

namespace Gateway.Testing.Smtp;

/// <summary>
/// Hands each message to the sink. Deliberately not IDisposable: SmtpServer disposes resolved
/// services per session, which would dispose a shared store after the first connection.
/// </summary>
internal sealed class CapturingMessageStore(CapturingSmtpSink sink) : IMessageStore
{
    private static readonly byte[] Crlf = "\r\n"u8.ToArray();

    public Task<SmtpResponse> SaveAsync(ISessionContext context, IMessageTransaction transaction,
        ReadOnlySequence<byte> buffer, CancellationToken cancellationToken)
    {
        // SmtpServer strips the CRLF before the terminating dot; it is part of the message.
        var data = new byte[buffer.Length + Crlf.Length];
        buffer.CopyTo(data);
        Crlf.CopyTo(data, (int)buffer.Length);
        var message = new CapturedMessage(AddressOf(transaction.From),
            transaction.To.Select(AddressOf).ToList(), data)
        {
            MailParameters = transaction.Parameters.ToDictionary(p => p.Key.ToUpperInvariant(), p => p.Value, StringComparer.OrdinalIgnoreCase),
        };

        var response = sink.OnData?.Invoke(message);
        if (response is null || (int)response.ReplyCode is >= 200 and < 300)
        {
            sink.Add(message);
        }

        return Task.FromResult(response ?? SmtpResponse.Ok);
    }

    // The null reverse-path (MAIL FROM:<>) of bounces arrives as null or an empty mailbox.
    private static string AddressOf(IMailbox? mailbox) =>
        mailbox is null || string.IsNullOrEmpty(mailbox.User) ? string.Empty : mailbox.AsAddress();
}
