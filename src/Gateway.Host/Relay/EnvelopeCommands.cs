using System.Globalization;
using System.Text;
using Gateway.Mail;
using Gateway.Spool;

namespace Gateway.Relay;

/// <summary>
/// MAIL and RCPT as the upstream gets them: the addresses as the client gave them (an xn-- domain
/// stays xn--), with the parameters this upstream offers. The client's ORCPT is passed on as it
/// came (RFC 3461 §6.1).
/// </summary>
internal static class EnvelopeCommands
{
    private static readonly IdnMapping Idn = new() { UseStd3AsciiRules = true };

    /// <summary>Whether the transaction needs SMTPUTF8: an address beyond ASCII.</summary>
    public static bool NeedsUtf8(string address) => !Ascii.IsValid(address);

    /// <summary>
    /// The address as it can be written to this upstream, or null: without SMTPUTF8 a domain in
    /// Unicode goes in its ASCII form (RFC 5890), but a local part beyond ASCII cannot go at all.
    /// </summary>
    public static string? Path(string address, bool smtpUtf8)
    {
        if (smtpUtf8 || Ascii.IsValid(address)) return address;
        var at = address.LastIndexOf('@');
        if (at <= 0 || !Ascii.IsValid(address.AsSpan(0, at)) || address[at + 1] == '[') return null;
        try
        {
            return string.Concat(address.AsSpan(0, at + 1), Idn.GetAscii(address[(at + 1)..]));
        }
        catch (ArgumentException)
        {
            return null; // no valid IDN: no ASCII form exists
        }
    }

    public static string Mail(string path, UpstreamCapabilities upstream, RelayedContent content, bool smtpUtf8, DsnParameters? dsn)
    {
        var command = new StringBuilder("MAIL FROM:<").Append(path).Append('>');
        if (upstream.Size) command.Append(" SIZE=").Append(content.Length.ToString(CultureInfo.InvariantCulture));
        if (content.EightBit && upstream.EightBitMime) command.Append(" BODY=8BITMIME");
        if (smtpUtf8) command.Append(" SMTPUTF8");
        if (upstream.Dsn && dsn is not null)
        {
            if (dsn.Return is { } ret) command.Append(" RET=").Append(ret);
            // Kept as the xtext the client sent, which the listener checked.
            if (dsn.EnvelopeId is { } envelopeId) command.Append(" ENVID=").Append(envelopeId);
        }
        return command.Append("\r\n").ToString();
    }

    /// <param name="address">The recipient as the client gave it, for an ORCPT of our own.</param>
    /// <param name="smtpUtf8">The transaction says SMTPUTF8: a utf-8 ORCPT may stay as it came.</param>
    public static string Rcpt(string path, string address, UpstreamCapabilities upstream, RecipientDsn? dsn, bool smtpUtf8)
    {
        var command = new StringBuilder("RCPT TO:<").Append(path).Append('>');
        if (upstream.Dsn && dsn is not null)
        {
            if (dsn.Notify is { } notify) command.Append(" NOTIFY=").Append(notify.ToParameter());
            if (dsn.OriginalRecipient is { } original) command.Append(" ORCPT=").Append(smtpUtf8 ? original : AsciiOriginalRecipient(original));
            // A relay may add one, naming the address it received (RFC 3461 §4.2): the upstream's
            // report then names that address even after an alias rewrote it. rfc822 holds ASCII only.
            else if (dsn.Notify is not null && Ascii.IsValid(address)) command.Append(" ORCPT=rfc822;").Append(Xtext.Encode(address));
        }
        return command.Append("\r\n").ToString();
    }

    /// <summary>
    /// A utf-8 ORCPT in its ASCII form (RFC 6533 §3, utf-8-addr-xtext): each character beyond
    /// ASCII as \x{HEX}. Outside an SMTPUTF8 transaction an upstream may refuse the RCPT otherwise.
    /// </summary>
    private static string AsciiOriginalRecipient(string original)
    {
        if (Ascii.IsValid(original)) return original;
        var ascii = new StringBuilder(original.Length + 16);
        foreach (var rune in original.EnumerateRunes())
        {
            if (rune.IsAscii) ascii.Append((char)rune.Value);
            else ascii.Append(CultureInfo.InvariantCulture, $"\\x{{{rune.Value:X}}}");
        }
        return ascii.ToString();
    }
}
