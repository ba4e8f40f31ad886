using System.Net;
using System.Text;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Smime;

/// <summary>
/// RFC 9788 §4.5's Legacy Display Element: the Subject hidden outside, written at the top of each
/// main body part (the text a client shows as the message), so a reader whose client does not
/// read protected headers still sees it. Text gets a "Subject: …" line and a blank line; HTML a
/// <c>div class="header-protection-legacy-display"</c> after its body tag. Each such part is
/// marked <c>hp-legacy-display="1"</c>, which tells a client that does read them to hide it.
/// Attachments, and anything under a signature the client made (PGP/MIME), are not touched.
/// </summary>
internal static class LegacyDisplay
{
    public const string Parameter = "hp-legacy-display";
    public const string HtmlClass = "header-protection-legacy-display";

    /// <summary>Larger text parts are left as they are: the text is decoded whole to be rewritten, and no mail's main text is this long.</summary>
    private const long MaxPartBytes = 8 * 1024 * 1024;

    /// <returns>Whether a part got the display.</returns>
    public static bool Add(MimeEntity payload, string subject)
    {
        var added = false;
        foreach (var part in MainBodyParts(payload))
        {
            if (part.Content?.Stream is { CanSeek: true, Length: > MaxPartBytes }) continue;
            AddTo(part, subject);
            added = true;
        }
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

    private static void AddTo(TextPart part, string subject)
    {
        var text = part.Text;
        var updated = part.IsHtml
            ? InsertIntoBody(text, $"<div class=\"{HtmlClass}\"><pre>Subject: {WebUtility.HtmlEncode(subject)}</pre></div>")
            : $"Subject: {subject}\r\n\r\n{text}";
        part.SetText(EncodingFor(part.ContentType.Charset, updated), updated);
        part.ContentType.Parameters[Parameter] = "1";
        // A subject in another script makes 7-bit text 8-bit: an encrypt-only copy is not prepared
        // for signing, which would otherwise choose the encoding.
        if (part.ContentTransferEncoding is ContentEncoding.Default or ContentEncoding.SevenBit && !Ascii.IsValid(updated))
            part.ContentTransferEncoding = ContentEncoding.QuotedPrintable;
    }

    /// <summary>After the body tag when there is one, else at the start.</summary>
    private static string InsertIntoBody(string html, string element)
    {
        var at = 0;
        for (var body = html.IndexOf("<body", StringComparison.OrdinalIgnoreCase); body >= 0; body = html.IndexOf("<body", body + 5, StringComparison.OrdinalIgnoreCase))
        {
            var next = body + 5 < html.Length ? html[body + 5] : '>';
            if (next != '>' && !char.IsWhiteSpace(next) && next != '/') continue; // <bodyx> is another tag
            var end = html.IndexOf('>', body);
            if (end >= 0) at = end + 1;
            break;
        }
        return html.Insert(at, element);
    }

    /// <summary>The part's charset when it can write the new text, else UTF-8 (a Subject in another script than the body).</summary>
    private static Encoding EncodingFor(string? charset, string text)
    {
        if (charset is null) return Ascii.IsValid(text) ? Encoding.ASCII : Encoding.UTF8;
        try
        {
            var encoding = Encoding.GetEncoding(charset, EncoderFallback.ExceptionFallback, DecoderFallback.ReplacementFallback);
            encoding.GetByteCount(text);
            return encoding;
        }
        catch (Exception e) when (e is ArgumentException or EncoderFallbackException)
        {
            return Encoding.UTF8;
        }
    }
}
