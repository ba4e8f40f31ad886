using Gateway.Mail;
using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// The parameters after the path of a RCPT command: NOTIFY and ORCPT (RFC 3461 §4.1, §4.2), the
/// only ones Gateway advertises (DSN). SmtpServer parses the path and drops the rest of the line,
/// so the line is read here (<see cref="CommandLineReader"/> keeps it). A malformed value is
/// refused with 501 5.5.4 and any other parameter with 555 5.5.4, as Postfix does: a client must
/// know that what it asked was not taken.
/// </summary>
internal static class RcptParameters
{
    /// <summary>RFC 3461 §4.2: an ORCPT value longer than this is refused.</summary>
    private const int MaxOriginalRecipient = 500;

    /// <returns>The recipient's DSN request (null when it gave none), or the reply that refuses the command.</returns>
    public static (RecipientDsn? Dsn, SmtpReply? Refusal) Parse(string commandLine)
    {
        DsnNotify? notify = null;
        string? original = null;
        foreach (var (keyword, value) in EnvelopeCommandLine.Parameters(commandLine))
        {
            if (keyword.Equals("NOTIFY", StringComparison.OrdinalIgnoreCase))
            {
                if (notify is not null) return Refuse(FailureKind.ParameterInvalid, "Error: duplicate NOTIFY parameter");
                notify = Notify(value);
                if (notify is null) return Refuse(FailureKind.ParameterInvalid, "Error: Bad NOTIFY parameter syntax");
            }
            else if (keyword.Equals("ORCPT", StringComparison.OrdinalIgnoreCase))
            {
                if (original is not null) return Refuse(FailureKind.ParameterInvalid, "Error: duplicate ORCPT parameter");
                if (!IsOriginalRecipient(value)) return Refuse(FailureKind.ParameterInvalid, "Error: Bad ORCPT parameter syntax");
                original = value;
            }
            else
            {
                return Refuse(FailureKind.ParameterUnsupported, $"Unsupported option: {EnvelopeCommandLine.Printable(keyword)}");
            }
        }
        return (notify is null && original is null ? null : new RecipientDsn(notify, original), null);
    }

    private static (RecipientDsn?, SmtpReply?) Refuse(FailureKind kind, string text) => (null, Failures.Reply(kind, text));

    /// <summary>"NEVER", or one or more of SUCCESS, FAILURE, DELAY separated by commas (RFC 3461 §4.1).</summary>
    private static DsnNotify? Notify(string? value)
    {
        if (string.IsNullOrEmpty(value)) return null;
        if (value.Equals("NEVER", StringComparison.OrdinalIgnoreCase)) return DsnNotify.Never;
        DsnNotify asked = 0;
        foreach (var part in value.Split(','))
        {
            DsnNotify one;
            if (part.Equals("SUCCESS", StringComparison.OrdinalIgnoreCase)) one = DsnNotify.Success;
            else if (part.Equals("FAILURE", StringComparison.OrdinalIgnoreCase)) one = DsnNotify.Failure;
            else if (part.Equals("DELAY", StringComparison.OrdinalIgnoreCase)) one = DsnNotify.Delay;
            else return null; // NEVER among others, an empty item, or an unknown word
            if ((asked & one) != 0) return null;
            asked |= one;
        }
        return asked;
    }

    /// <summary>
    /// addr-type ";" xtext (RFC 3461 §4.2), at most 500 characters. For "utf-8" (RFC 6533) the
    /// address may hold UTF-8 as it is; otherwise it is xtext of printable ASCII
    /// (<see cref="Xtext.IsPrintableXtext"/>).
    /// </summary>
    private static bool IsOriginalRecipient(string? value)
    {
        if (string.IsNullOrEmpty(value) || value.Length > MaxOriginalRecipient) return false;
        var separator = value.IndexOf(';');
        if (separator <= 0 || separator == value.Length - 1) return false;
        var type = value.AsSpan(0, separator);
        foreach (var c in type)
            if (!char.IsAsciiLetterOrDigit(c) && c != '-') return false;
        var address = value[(separator + 1)..];
        if (!type.Equals("utf-8", StringComparison.OrdinalIgnoreCase)) return Xtext.IsPrintableXtext(address);
        // RFC 6533 utf-8-addr-xtext: no controls, "=" or "+" ("+HH" is still taken, as older clients write it), "\" only as "\x{".
        for (var i = 0; i < address.Length; i++)
        {
            var c = address[i];
            if (c <= ' ' || c == '=' || c == '\x7f' || c is >= '\u0080' and <= '\u009f') return false;
            if (c == '+' && (i + 2 >= address.Length || !Xtext.IsUpperHex(address[i + 1]) || !Xtext.IsUpperHex(address[i + 2]))) return false;
            if (c == '\\' && !address.AsSpan(i).StartsWith("\\x{")) return false;
        }
        return true;
    }

    private static bool IsUpperHex(char c) => char.IsAsciiDigit(c) || c is >= 'A' and <= 'F';
}
