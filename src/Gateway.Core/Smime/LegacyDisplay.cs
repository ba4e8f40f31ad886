using System.Net;
using System.Text;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Smime;

/// <summary>
/// RFC 9788 §4.5's Legacy Display Element: the Subject hidden outside, written at the top of each
/// main body part (the text a client shows as the message), so a reader whose client does not
/// read protected headers still sees it. Text gets a "Subject: …" line and a blank line; HTML a
/// <c>div class="header-protection-legacy-display"</c> after its body tag (<see cref="HtmlBodyStart"/>).
/// Each such part is marked <c>hp-legacy-display="1"</c>, which tells a client that does read them
/// to hide it. Attachments, and anything under a signature the client made (PGP/MIME), are not touched.
/// </summary>
/// <remarks>
/// The display is put into the part's bytes, not into its text decoded and encoded again: a part
/// whose charset label is wrong or missing (Latin-1 bytes labelled UTF-8, windows-1252 HTML with
/// no label) keeps every byte it had. The HTML element is ASCII (other characters as references),
/// and so is the text line in an ASCII part; a Subject the part's charset cannot write leaves that
/// part without a display.
/// </remarks>
internal static class LegacyDisplay
{
    public const string Parameter = "hp-legacy-display";
    public const string HtmlClass = "header-protection-legacy-display";

    /// <summary>Larger text parts are left as they are: the text is read whole to be rewritten, and no mail's main text is this long.</summary>
    private const long MaxPartBytes = 8 * 1024 * 1024;

    /// <summary>Charsets in which ASCII bytes are ASCII text, so a byte offset found in Latin-1 is one in the text.</summary>
    private static readonly string[] AsciiCompatible = ["us-ascii", "ascii", "utf-8", "iso-8859-", "windows-125", "cp125", "koi8-", "gb2312", "gbk", "gb18030", "big5", "euc-", "shift_jis", "iso-2022-"];

    /// <returns>Whether a part got the display.</returns>
    public static bool Add(MimeEntity payload, string subject)
    {
        var added = false;
        foreach (var part in MainBodyParts(payload))
            added |= part.Content?.Stream is not { CanSeek: true, Length: > MaxPartBytes } && TryAddTo(part, subject);
        return added;
    }

    /// <summary>What a client renders as the message: a text part, each rendering of an alternative, the first part of a mixed or the root of a related one.</summary>
    private static IEnumerable<TextPart> MainBodyParts(MimeEntity entity) => entity switch
    {
        TextPart text when !text.IsAttachment && (text.IsPlain || text.IsHtml) => [text],
        MultipartSigned or MultipartEncrypted => [],
        MultipartAlternative alternative => alternative.SelectMany(MainBodyParts),
        MultipartRelated { Root: { } root } => MainBodyParts(root),
        Multipart { Count: > 0 } multipart => MainBodyParts(multipart[0]),
        _ => [],
    };

    private static bool TryAddTo(TextPart part, string subject)
    {
        var charset = part.ContentType.Charset?.Trim().ToLowerInvariant() ?? "us-ascii";
        if (part.Content is null || !AsciiCompatible.Any(charset.StartsWith)) return false;
        var content = Decoded(part.Content);
        byte[] updated;
        if (part.IsHtml)
        {
            var text = Encoding.Latin1.GetString(content);
            var at = HtmlBodyStart.Find(text);
            var element = Encoding.ASCII.GetBytes($"<div class=\"{HtmlClass}\"><pre>Subject: {AsciiHtml(subject)}</pre></div>");
            updated = [.. content.AsSpan(0, at), .. element, .. content.AsSpan(at)];
        }
        else
        {
            var line = $"Subject: {subject}\r\n\r\n";
            if (Ascii.IsValid(line)) updated = [.. Encoding.ASCII.GetBytes(line), .. content];
            else if (charset == "utf-8") updated = [.. Encoding.UTF8.GetBytes(line), .. content];
            else if (charset is "us-ascii" or "ascii" && Ascii.IsValid(content))
            {
                // ASCII text is UTF-8 text: only its label changes.
                part.ContentType.Charset = "utf-8";
                updated = [.. Encoding.UTF8.GetBytes(line), .. content];
            }
            else if (Encoded(charset, line) is { } encoded) updated = [.. encoded, .. content];
            else return false;
        }
        part.Content = new MimeContent(new MemoryStream(updated, writable: false));
        part.ContentType.Parameters[Parameter] = "1";
        // 7-bit text that became 8-bit: an encrypt-only copy is not prepared for signing, which
        // would otherwise choose the encoding.
        if (part.ContentTransferEncoding is ContentEncoding.Default or ContentEncoding.SevenBit && !Ascii.IsValid(updated))
            part.ContentTransferEncoding = ContentEncoding.QuotedPrintable;
        return true;
    }

    private static byte[] Decoded(IMimeContent content)
    {
        using var decoded = new MemoryStream();
        content.DecodeTo(decoded);
        return decoded.ToArray();
    }

    /// <summary>HTML-escaped, with every character outside ASCII as a numeric reference.</summary>
    private static string AsciiHtml(string text)
    {
        var escaped = new StringBuilder();
        foreach (var rune in WebUtility.HtmlEncode(text).EnumerateRunes())
            escaped.Append(rune.IsAscii ? rune.ToString() : $"&#x{rune.Value:X};");
        return escaped.ToString();
    }

    /// <summary>The text in the charset, or null when it cannot write it (or is not one .NET knows).</summary>
    private static byte[]? Encoded(string charset, string text)
    {
        try
        {
            return Encoding.GetEncoding(charset, EncoderFallback.ExceptionFallback, DecoderFallback.ExceptionFallback).GetBytes(text);
        }
        catch (Exception e) when (e is ArgumentException or NotSupportedException)
        {
            return null;
        }
    }
}
