using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// Whether an envelope address can be written in MAIL or RCPT: what MimeKit's looser address
/// parser takes. SmtpServer accepts addresses that MimeKit's strict parser refuses
/// (a..b@example.com is common in the wild); an address even the looser one cannot read is a
/// permanent failure of that recipient, not an endless retry.
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
