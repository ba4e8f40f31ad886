using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// Envelope addresses as MailKit needs them. SmtpServer accepts addresses that MimeKit's strict
/// parser refuses (a..b@example.com is common in the wild), so the looser mode is used; an
/// address even that cannot express is a permanent failure of that recipient, not an endless retry.
/// </summary>
internal static class EnvelopeMailbox
{
    private static readonly ParserOptions Loose = new() { AddressParserComplianceMode = RfcComplianceMode.Looser };

    public static MailboxAddress? TryCreate(string address)
    {
        if (address.Length == 0) return new MailboxAddress(string.Empty, string.Empty); // the null sender
        try
        {
            return MailboxAddress.Parse(Loose, address);
        }
        catch (ParseException)
        {
            return null;
        }
    }
}
