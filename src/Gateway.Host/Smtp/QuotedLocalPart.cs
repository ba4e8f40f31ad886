using System.Buffers;
using System.Text;
using System.Text.RegularExpressions;
using Gateway.Outcomes;

namespace Gateway.Smtp;

/// <summary>
/// Local parts between SmtpServer and the rest of the gateway. SmtpServer reads a local part by
/// trimming its quotes and passing the rest through <see cref="Regex.Unescape"/>, which is not
/// RFC 5321's quoted-pair: "\t" became a TAB, "\r\n" a line break, "\u0062" a "b", and "\o" threw,
/// which ended the session without a reply. Such a line is refused before SmtpServer reads it
/// (<see cref="Refusal"/>). What it reads right has lost its quotes: "john doe"@example.com came
/// out as john doe@example.com, which no upstream takes, so the mail was accepted and then bounced;
/// <see cref="Written"/> quotes it again.
/// </summary>
internal static class QuotedLocalPart
{
    /// <summary>RFC 5322 atext, and any UTF-8 beyond ASCII (RFC 6531): what a dot-string is made of, with its dots.</summary>
    private static readonly SearchValues<char> DotStringAscii =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-/=?^_`{|}~.");

    /// <summary>
    /// The local part as RFC 5321 writes it: as it is when it needs no quotes, quoted otherwise,
    /// with its backslashes and quotes escaped. Dots are left where they are: a..b@example.com is
    /// common in the wild, and quoting it would be a change the client did not ask for.
    /// </summary>
    public static string Written(string content)
    {
        // The vectorised test first: it is every address of every message.
        if (content.Length > 0 && (!content.AsSpan().ContainsAnyExcept(DotStringAscii) || content.All(c => c > '\u007f' || DotStringAscii.Contains(c)))) return content;
        var quoted = new StringBuilder(content.Length + 2).Append('"');
        foreach (var c in content)
        {
            if (c is '"' or '\\') quoted.Append('\\');
            quoted.Append(c);
        }
        return quoted.Append('"').ToString();
    }

    /// <summary>
    /// The refusal of a MAIL or RCPT line whose quoted local part SmtpServer would read as
    /// something else than RFC 5321 says it is, or not at all; null for every other line.
    /// </summary>
    public static SmtpReply? Refusal(string commandLine, bool isMail)
    {
        if (Quoted(commandLine) is not { } written || Content(written) is not { } content || SmtpServerReading(written) == content) return null;
        return isMail
            ? Failures.Reply(FailureKind.SenderAddressInvalid, "Sender address rejected: a quoted-pair in its local part this server cannot read")
            : Failures.Reply(FailureKind.RecipientAddressInvalid, "Recipient address rejected: a quoted-pair in its local part this server cannot read");
    }

    /// <summary>
    /// The quoted local part of the line's path, quotes included, as SmtpServer's parser takes it
    /// (after the '&lt;' and any source route, to the first quote no backslash escapes), whatever
    /// follows it: SmtpServer reads the local part before it looks for the rest of the path.
    /// </summary>
    private static string? Quoted(string commandLine)
    {
        var start = commandLine.IndexOf('<') + 1;
        if (start == 0) return null;
        // A source route (@a,@b:) comes before the mailbox; RFC 5321 §4.1.2.
        if (start < commandLine.Length && commandLine[start] == '@' && commandLine.IndexOf(':', start) is var colon and > 0) start = colon + 1;
        if (start >= commandLine.Length || commandLine[start] != '"') return null;
        for (var i = start + 1; i < commandLine.Length; i++)
        {
            if (commandLine[i] == '\\') i++;
            else if (commandLine[i] == '"') return commandLine[start..(i + 1)];
        }
        return null;
    }

    /// <summary>What a quoted-string means (RFC 5321 §4.1.2: a quoted-pair is the character after its backslash); null when it is not one.</summary>
    private static string? Content(string quoted)
    {
        if (quoted.Length < 2 || quoted[^1] != '"') return null;
        var content = new StringBuilder(quoted.Length);
        for (var i = 1; i < quoted.Length - 1; i++)
        {
            if (quoted[i] == '"') return null;
            if (quoted[i] == '\\' && ++i == quoted.Length - 1) return null; // the backslash escapes the closing quote
            content.Append(quoted[i]);
        }
        return content.ToString();
    }

    /// <summary>What SmtpServer makes of it (its SmtpParser.CreateMailbox); null when that throws.</summary>
    private static string? SmtpServerReading(string written)
    {
        try
        {
            return Regex.Unescape(written.Trim('"'));
        }
        catch (ArgumentException)
        {
            return null;
        }
    }
}
