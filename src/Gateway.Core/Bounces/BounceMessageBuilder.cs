using System.Text;
using MimeKit;
using MimeKit.Utils;

namespace Gateway.Bounces;

/// <summary>
/// Builds an RFC 3464 delivery status notification: multipart/report with a human-readable
/// explanation, the machine-readable message/delivery-status (RFC 3463 status codes, including
/// 5.7.x for policy refusals) and the original headers only (text/rfc822-headers), so no
/// plaintext body the policy withheld is echoed back through the bounce.
/// </summary>
public static class BounceMessageBuilder
{
    public static MimeMessage Build(BounceRequest request, DateTimeOffset now)
    {
        var message = new MimeMessage();
        message.Headers.Clear();
        message.From.Add(new MailboxAddress("Mail Delivery System", $"MAILER-DAEMON@{request.ReportingMta}"));
        message.To.Add(MailboxAddress.Parse(request.OriginalSender));
        message.Subject = "Undelivered Mail Returned to Sender";
        message.Date = now;
        message.MessageId = MimeUtils.GenerateMessageId(request.ReportingMta);
        message.Headers.Add(HeaderId.MimeVersion, "1.0");
        message.Headers.Add("Auto-Submitted", "auto-replied"); // RFC 3834: nobody answers this automatically

        var report = new MultipartReport("delivery-status")
        {
            new TextPart("plain") { Text = Explain(request), ContentTransferEncoding = ContentEncoding.QuotedPrintable },
            Status(request),
            OriginalHeaders(request.OriginalMessage),
        };
        message.Body = report;
        return message;
    }

    private static string Explain(BounceRequest request)
    {
        var text = new StringBuilder();
        text.Append("This is the mail gateway at ").Append(request.ReportingMta).Append(".\r\n\r\n");
        text.Append("Your message could not be delivered to the recipients below. It was not sent to them\r\n");
        text.Append("in any form. The message's headers are attached; its content was not returned.\r\n\r\n");
        foreach (var recipient in request.Recipients)
        {
            text.Append('<').Append(recipient.Address).Append(">: ").Append(recipient.Explanation).Append("\r\n");
            text.Append("    (").Append(recipient.Reply).Append(")\r\n\r\n");
        }
        text.Append("Queue id: ").Append(request.SpoolId).Append("\r\n");
        return text.ToString();
    }

    private static MessageDeliveryStatus Status(BounceRequest request)
    {
        var status = new MessageDeliveryStatus();
        var perMessage = new HeaderList
        {
            { "Reporting-MTA", $"dns; {request.ReportingMta}" },
            { "X-Gateway-Queue-ID", request.SpoolId },
            { "Arrival-Date", DateUtils.FormatDate(request.ArrivalDate) },
        };
        status.StatusGroups.Add(perMessage);
        foreach (var recipient in request.Recipients)
        {
            status.StatusGroups.Add(new HeaderList
            {
                { "Final-Recipient", $"rfc822; {recipient.Address}" },
                { "Action", "failed" },
                { "Status", recipient.Reply.EnhancedCode },
                { "Diagnostic-Code", $"smtp; {recipient.Reply}" },
            });
        }
        return status;
    }

    private static TextRfc822Headers OriginalHeaders(Stream original)
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
