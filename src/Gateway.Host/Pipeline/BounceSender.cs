using System.Buffers;
using Gateway.Audit;
using Gateway.Bounces;
using Gateway.Configuration;
using Gateway.Spool;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Gateway.Pipeline;

/// <summary>
/// Tells the sender about recipients that failed for good, with a delivery status notification
/// queued like any other message (null envelope sender, so it can never cause a bounce itself).
/// </summary>
public sealed class BounceSender(FileSpool spool, SpoolQueue queue, IAuditLog audit, IOptions<GatewayOptions> options, TimeProvider time)
{
    private static readonly FormatOptions Wire = CreateFormat();
    private readonly string _reportingMta = options.Value.Smtp.ServerName;

    public async Task SendAsync(ProcessingContext context, CancellationToken cancellationToken)
    {
        if (context.NewlyFailed.Count == 0) return;
        var entry = context.Entry;
        var failed = context.NewlyFailed.Select(f => f.Address).ToList();
        if (entry.MailFrom.Length == 0)
        {
            await audit.WriteAsync(context.Event("bounce-suppressed") with
            {
                Recipients = failed, Reason = "the message had a null sender (it is itself a notification): never a bounce for a bounce",
            }, cancellationToken);
            return;
        }

        byte[] bytes;
        await using (var original = File.OpenRead(spool.ContentPath(entry.Id)))
        using (var memory = new MemoryStream())
        {
            var bounce = BounceMessageBuilder.Build(new BounceRequest(_reportingMta, entry.Id, entry.MailFrom, entry.ReceivedAt, context.NewlyFailed, original), time.GetUtcNow());
            await bounce.WriteToAsync(Wire, memory, cancellationToken);
            bytes = memory.ToArray();
        }
        // The spool restores the CRLF that SMTP's final dot takes away, so hand it the message without its last one.
        var length = bytes.Length >= 2 && bytes[^2] == '\r' && bytes[^1] == '\n' ? bytes.Length - 2 : bytes.Length;
        var queued = await spool.AcceptAsync(new ReadOnlySequence<byte>(bytes, 0, length), string.Empty, [entry.MailFrom], "localhost", null, null, CancellationToken.None);
        await audit.WriteAsync(context.Event("bounced") with
        {
            Recipients = failed, Recipient = entry.MailFrom, Action = "delivery status notification queued", Status = queued.Id,
        }, CancellationToken.None);
        queue.Enqueue(queued.Id);
    }

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}
