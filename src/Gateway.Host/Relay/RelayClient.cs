using MailKit.Net.Smtp;
using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// MailKit's SmtpClient with the two behaviours a relay needs changed: it never re-encodes the
/// message (that would break the signature), and a rejected recipient is recorded instead of
/// aborting the whole transaction.
/// </summary>
internal sealed class RelayClient : SmtpClient
{
    public List<(string Recipient, SmtpResponse Response)> Rejected { get; } = [];

    protected override void Prepare(FormatOptions options, MimeMessage message, EncodingConstraint constraint, int maxLineLength)
    {
    }

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response) =>
        Rejected.Add((mailbox.Address, response));
}
