using System.Text;
using Gateway.Mail;
using MimeKit;
using MimeKit.Utils;

namespace Gateway.Bounces;

/// <summary>
/// Builds an RFC 3464 delivery status notification: multipart/report with a human-readable
/// explanation, the machine-readable message/delivery-status (RFC 3463 status codes, including
/// 5.7.x for policy refusals) and the original headers only (text/rfc822-headers), so no
/// plaintext body the policy withheld is echoed back through the bounce. Only when the client
/// asked for RET=FULL, no recipient was refused by policy and the original is small enough (the
/// caller decides: <see cref="BounceRequest.ReturnContent"/>) is the whole original attached.
/// The same builder makes the "delayed" warning (Action: delayed, Will-Retry-Until) and the
/// success report a client asks with NOTIFY=SUCCESS (Action: relayed). The client's ORCPT is
/// echoed as Original-Recipient (RFC 3464 2.3.1), its ENVID as Original-Envelope-Id.
/// </summary>
public static class BounceMessageBuilder
{
    public static MimeMessage Build(BounceRequest request, DateTimeOffset now)
    {
        var message = new MimeMessage();
        message.Headers.Clear();
        message.From.Add(new MailboxAddress("Mail Delivery System", $"MAILER-DAEMON@{request.ReportingMta}"));
        message.To.Add(MailboxAddress.Parse(new ParserOptions { AddressParserComplianceMode = RfcComplianceMode.Looser }, request.OriginalSender));
        message.Subject = KindOf(request) switch
        {
            ReportedRecipient.Delayed => "Delayed Mail (still being retried)",
            ReportedRecipient.Relayed => "Successful Mail Delivery Report",
            _ => "Undelivered Mail Returned to Sender",
        };
        message.Date = now;
        message.MessageId = MimeUtils.GenerateMessageId(request.ReportingMta);
        message.Headers.Add(HeaderId.MimeVersion, "1.0");
        message.Headers.Add("Auto-Submitted", "auto-replied"); // RFC 3834: nobody answers this automatically

        var report = new MultipartReport("delivery-status")
        {
            new TextPart("plain") { Text = Explain(request), ContentTransferEncoding = ContentEncoding.QuotedPrintable },
            Status(request),
            request.ReturnContent ? OriginalMessage(request.OriginalMessage) : OriginalHeaders(request.OriginalMessage),
        };
        message.Body = report;
        return message;
    }

    /// <summary>One kind per report (the sender reads "failed" or "still trying" or "arrived", never a mix); a mix reads as a failure.</summary>
    private static string KindOf(BounceRequest request) =>
        request.Recipients.Select(r => r.Action).Distinct().ToList() is [var only] ? only : ReportedRecipient.Failed;

    private static string Explain(BounceRequest request)
    {
        var text = new StringBuilder();
        text.Append("This is the mail gateway at ").Append(request.ReportingMta).Append(".\r\n\r\n");
        var kind = KindOf(request);
        if (kind == ReportedRecipient.Delayed)
        {
            text.Append("Your message has not yet been delivered to the recipients below. The gateway keeps\r\n");
            text.Append("trying; you do not need to send it again. You will be told if it finally fails.\r\n\r\n");
        }
        else if (kind == ReportedRecipient.Relayed)
        {
            // The upstream does not offer DSN: what happens after it cannot be reported from here.
            text.Append("Your message was passed on to the recipients below, as you asked to be told. The next\r\n");
            text.Append("mail server does not report final delivery, so this is the last notice of success you\r\n");
            text.Append("will get; you may still hear of a failure from a mail system further on.\r\n\r\n");
        }
        else
        {
            text.Append("Your message could not be delivered to the recipients below. It was not sent to them\r\n");
            text.Append(request.ReturnContent
                ? "in any form. Your message is attached.\r\n\r\n"
                : "in any form. The message's headers are attached; its content was not returned.\r\n\r\n");
        }
        foreach (var recipient in request.Recipients)
        {
            text.Append('<').Append(recipient.Address).Append(">: ").Append(recipient.Explanation).Append("\r\n");
            text.Append("    (").Append(recipient.Reply).Append(")\r\n");
            if (recipient.WillRetryUntil is { } until) text.Append("    Retried until ").Append(DateUtils.FormatDate(until)).Append("\r\n");
            text.Append("\r\n");
        }
        text.Append("Queue id: ").Append(request.SpoolId).Append("\r\n");
        return text.ToString();
    }

    private static MessageDeliveryStatus Status(BounceRequest request)
    {
        var groups = new List<HeaderList>();
        var perMessage = new HeaderList
        {
            { "Reporting-MTA", $"dns; {request.ReportingMta}" },
        };
        if (request.EnvelopeId is { Length: > 0 } envelopeId) perMessage.Add("Original-Envelope-Id", Xtext.Decode(envelopeId));
        perMessage.Add("X-Gateway-Queue-ID", request.SpoolId);
        perMessage.Add("Arrival-Date", DateUtils.FormatDate(request.ArrivalDate));
        groups.Add(perMessage);
        foreach (var recipient in request.Recipients)
        {
            var group = new HeaderList();
            if (OriginalRecipient(recipient.OriginalRecipient) is { } original) group.Add("Original-Recipient", original);
            group.Add("Final-Recipient", $"rfc822; {recipient.Address}");
            group.Add("Action", recipient.Action);
            group.Add("Status", recipient.Reply.EnhancedCode);
            group.Add("Diagnostic-Code", $"smtp; {recipient.Reply}");
            if (recipient.WillRetryUntil is { } until) group.Add("Will-Retry-Until", DateUtils.FormatDate(until));
            groups.Add(group);
        }
        // Written by hand: MimeKit's own serialisation ends the part with an extra blank line,
        // which strict readers (MimeKit itself among them) parse as an empty recipient group.
        // RFC 3464: groups separated by one blank line, the last field's CRLF ending the content.
        var format = FormatOptions.Default.Clone();
        format.NewLineFormat = NewLineFormat.Dos;
        // HeaderList.WriteTo ends each group with the blank line that separates it from the next;
        // the last one's is cut.
        var content = new MemoryStream();
        foreach (var group in groups) group.WriteTo(format, content);
        content.SetLength(content.Length - 2);
        content.Position = 0;
        return new MessageDeliveryStatus { Content = new MimeContent(content) };
    }

    private static MessagePart OriginalMessage(Stream original) =>
        new("rfc822") { Message = MimeMessage.Load(original) };

    /// <summary>
    /// ORCPT "type;xtext" as the field's "type; address" (RFC 3464 2.3.1: decoded from xtext). A
    /// "utf-8" one (RFC 6533) goes as received when it is ASCII (non-ASCII as \x{HEX}), and is left
    /// out otherwise: message/delivery-status is ASCII, and MimeKit would make it an encoded-word.
    /// </summary>
    private static string? OriginalRecipient(string? orcpt)
    {
        var separator = orcpt?.IndexOf(';') ?? -1;
        if (separator <= 0) return null;
        var type = orcpt![..separator];
        var address = type.Equals("utf-8", StringComparison.OrdinalIgnoreCase) ? orcpt[(separator + 1)..] : Xtext.Decode(orcpt[(separator + 1)..]);
        return Xtext.IsPrintableAscii(address) ? $"{type}; {address}" : null;
    }

    private static MimeEntity OriginalHeaders(Stream original)
    {
        HeaderList headers;
        try
        {
            headers = HeaderList.Load(original);
        }
        catch (FormatException)
        {
            headers = [];
        }
        var headersOnly = new MimeMessage();
        headersOnly.Headers.Clear();
        foreach (var header in headers) headersOnly.Headers.Add(header);
        var part = new TextRfc822Headers { Message = headersOnly };
        return part;
    }
}
