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

    /// <summary>
    /// The recipients that can be written, each with its place in <paramref name="recipients"/>
    /// (where its DSN parameters are), and those that cannot, in their order.
    /// </summary>
    public static (List<(string Address, int Index)> Writable, List<string> Unwritable) Partition(IReadOnlyList<string> recipients)
    {
        var writable = new List<(string Address, int Index)>(recipients.Count);
        var unwritable = new List<string>();
        for (var i = 0; i < recipients.Count; i++)
        {
            if (TryCreate(recipients[i]) is null) unwritable.Add(recipients[i]);
            else writable.Add((recipients[i], i));
        }
        return (writable, unwritable);
    }

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
