using System.Buffers;
using Gateway.Audit;
using Gateway.Bounces;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Outcomes;
using Gateway.Spool;
using Microsoft.Extensions.Options;
using MimeKit;

namespace Gateway.Pipeline;

/// <summary>
/// Tells the sender about recipients that failed for good, that were relayed (when asked with
/// NOTIFY=SUCCESS), or, once, that delivery is delayed, with a delivery status notification
/// queued like any other message (null envelope sender, so it can never cause a bounce itself).
/// Each recipient's NOTIFY decides (RFC 3461 §4.1): NEVER gets nothing, a list without FAILURE
/// or DELAY gets no such report; without NOTIFY, failures and delays are reported.
/// </summary>
public sealed class BounceSender(FileSpool spool, SpoolQueue queue, IAuditLog audit, IOptions<GatewayOptions> options, TimeProvider time)
{
    private static readonly FormatOptions Wire = CreateFormat();
    private readonly string _reportingMta = options.Value.Smtp.ServerName;
    private readonly long _returnedContentLimit = options.Value.Spool.BounceSizeLimit;

    public async Task SendAsync(ProcessingContext context, CancellationToken cancellationToken)
    {
        var owed = context.FailuresToReport;
        if (owed.Count == 0) return;
        var failed = await AskedAsync(context, owed, DsnNotify.Failure, cancellationToken);
        if (failed.Count == 0) return;
        // RET=FULL is honoured only when every failed copy would have left unencrypted anyway: a body
        // the policy refused to send in plaintext (or sent encrypted) is never echoed back in plaintext,
        // since the envelope sender is not authenticated and the report travels through the upstream.
        // Nor when the message is over Spool:BounceSizeLimit or was refused for its size: a report
        // carrying it would be refused in turn, and a failed report is dropped, the sender never told.
        var returnContent = context.Entry.Return == "FULL" && failed.All(f => f.MayReturnContent)
            && context.Content.Length <= _returnedContentLimit && !failed.Any(f => IsSizeRefusal(f.Reply));
        await QueueReportAsync(context, failed, returnContent, "bounced", "delivery status notification queued", cancellationToken);
    }

    /// <summary>
    /// The "relayed" report for recipients whose client asked NOTIFY=SUCCESS of an upstream without
    /// DSN. Headers only, whatever RET said: RET is about failures, and a report of success returns
    /// the headers (RFC 3461 §4.3).
    /// </summary>
    public async Task ReportRelayedAsync(ProcessingContext context, CancellationToken cancellationToken)
    {
        var owed = context.RelaysToReport;
        if (owed.Count == 0) return;
        await QueueReportAsync(context, owed, returnContent: false, "success-reported", "success notification queued", cancellationToken);
    }

    /// <summary>
    /// The notice that recipients are held until a certificate is known (RFC 3464 Action: delayed,
    /// with the time the message is returned if none is), when their NOTIFY asks for delays.
    /// </summary>
    public async Task ReportHeldAsync(ProcessingContext context, CancellationToken cancellationToken)
    {
        var owed = context.HoldsToReport;
        if (owed.Count == 0) return;
        var asked = await AskedAsync(context, owed, DsnNotify.Delay, cancellationToken);
        if (asked.Count == 0) return;
        await QueueReportAsync(context, asked, returnContent: false, "delay-warned", "notice of the hold queued", cancellationToken);
    }

    /// <summary>The one "still trying" notice (RFC 3464 Action: delayed) for the recipients still deferred.</summary>
    public async Task WarnDelayedAsync(ProcessingContext context, DateTimeOffset retryUntil, CancellationToken cancellationToken)
    {
        var delayed = context.Entry.Recipients
            .Where(r => r.Status == RecipientStatus.Deferred)
            .Select(r => new ReportedRecipient(r.Address, SmtpReply.Parse(r.Reply ?? "451 4.4.1 not yet delivered"),
                "The receiving mail server has not accepted the message yet; the gateway keeps trying.", ReportedRecipient.Delayed, retryUntil,
                OriginalRecipient: r.OriginalRecipient, Notify: r.Notify))
            .ToList();
        delayed = await AskedAsync(context, delayed, DsnNotify.Delay, cancellationToken);
        if (delayed.Count == 0) return;
        await QueueReportAsync(context, delayed, returnContent: false, "delay-warned", "delay notification queued", cancellationToken);
    }

    /// <summary>The recipients whose NOTIFY asks for this report; the others are audited as not reported.</summary>
    private async Task<List<ReportedRecipient>> AskedAsync(ProcessingContext context, IReadOnlyList<ReportedRecipient> recipients, DsnNotify condition, CancellationToken cancellationToken)
    {
        var asked = new List<ReportedRecipient>(recipients.Count);
        var unasked = new List<string>();
        foreach (var recipient in recipients)
        {
            if (recipient.Notify.Asks(condition)) asked.Add(recipient);
            else unasked.Add(recipient.Address);
        }
        if (unasked.Count > 0)
        {
            await audit.WriteAsync(context.Event("bounce-suppressed") with
            {
                Recipients = unasked,
                Reason = $"the client's NOTIFY for these recipients does not ask for {condition.ToString().ToLowerInvariant()} reports (RFC 3461)",
            }, cancellationToken);
            context.Settle(recipients.Where(r => !r.Notify.Asks(condition)));
        }
        return asked;
    }

    private async Task QueueReportAsync(ProcessingContext context, IReadOnlyList<ReportedRecipient> recipients, bool returnContent, string eventName, string action, CancellationToken cancellationToken)
    {
        var entry = context.Entry;
        var addresses = recipients.Select(f => f.Address).ToList();
        if (entry.MailFrom.Length == 0)
        {
            await audit.WriteAsync(context.Event("bounce-suppressed") with
            {
                Recipients = addresses, Reason = "the message had a null sender (it is itself a notification): never a bounce for a bounce",
            }, cancellationToken);
            context.Settle(recipients);
            return;
        }
        if (Relay.EnvelopeMailbox.TryCreate(entry.MailFrom) is null)
        {
            // Nowhere to send it: a report addressed to an address no MTA can write would loop in our own queue.
            await audit.WriteAsync(context.Event("bounce-suppressed") with
            {
                Recipients = addresses, Reason = $"the sender address <{entry.MailFrom}> cannot be written in an SMTP envelope",
            }, cancellationToken);
            context.Settle(recipients);
            return;
        }

        byte[] bytes;
        await using (var original = context.Content.OpenRead())
        using (var memory = new MemoryStream())
        {
            var request = new BounceRequest(_reportingMta, entry.Id, entry.MailFrom, entry.ReceivedAt, recipients, original, entry.EnvelopeId, returnContent);
            var bounce = BounceMessageBuilder.Build(request, time.GetUtcNow());
            await bounce.WriteToAsync(Wire, memory, cancellationToken);
            bytes = memory.ToArray();
        }
        // The spool restores the CRLF that SMTP's final dot takes away, so hand it the message without its last one.
        var length = bytes.Length >= 2 && bytes[^2] == '\r' && bytes[^1] == '\n' ? bytes.Length - 2 : bytes.Length;
        var queued = await spool.AcceptAsync(new ReadOnlySequence<byte>(bytes, 0, length), string.Empty, [entry.MailFrom], "localhost", null, null, null, CancellationToken.None);
        // Queued: owed no more, and on its way, before the audit line, which may fail (a full disk)
        // and must not make the next attempt queue the same report again.
        context.Settle(recipients);
        queue.Enqueue(queued.Id);
        await audit.WriteAsync(context.Event(eventName) with
        {
            Recipients = addresses, Recipient = entry.MailFrom, Action = action, Status = queued.Id,
        }, CancellationToken.None);
    }

    /// <summary>552 (RFC 5321: storage allocation exceeded), 5.3.4 (message too big for system), 5.2.3 (message length exceeds administrative limit).</summary>
    private static bool IsSizeRefusal(SmtpReply reply) =>
        reply.Code == 552 || reply.EnhancedCode.EndsWith(".3.4", StringComparison.Ordinal) || reply.EnhancedCode.EndsWith(".2.3", StringComparison.Ordinal);

    private static FormatOptions CreateFormat()
    {
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        return format;
    }
}
