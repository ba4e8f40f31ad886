using System.Text;
using System.Text.RegularExpressions;
using MimeKit;

namespace Gateway.Testing.Peers;

/// <summary>
/// Turns S/MIME messages into the raw CMS inputs that gpgsm wants (it reads CMS, not MIME).
/// Same algorithm as the python splitter in docs/peers.md.
/// </summary>
public static class SmimeSplitter
{
    /// <summary>Splits a top-level multipart/signed message.</summary>
    public static SignedParts SplitSigned(byte[] message)
    {
        var parsed = Parse(message);
        if (parsed.Body is not Multipart { ContentType.MimeType: var type } signed
            || !type.Equals("multipart/signed", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"Not multipart/signed: {parsed.Body?.ContentType.MimeType ?? "(no body)"}");
        }

        var boundary = signed.Boundary ?? throw new InvalidDataException("multipart/signed without a boundary.");

        // The signed bytes must not pass through MimeKit's serializer: any re-folding or
        // re-encoding would break the signature, and that is what these tests look for.
        // Latin-1 maps every byte to one char, so the regex works on the raw bytes.
        var text = Regex.Replace(Encoding.Latin1.GetString(message), "\r?\n", "\r\n");
        var headerEnd = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        if (headerEnd < 0)
        {
            throw new InvalidDataException("Message has no header/body separator.");
        }

        // The leading CRLF belongs to the first delimiter when the body starts with it.
        var body = "\r\n" + text[(headerEnd + 4)..];
        var delimiter = new Regex(@"\r\n--" + Regex.Escape(boundary) + @"(?:--)?[ \t]*\r\n");
        var parts = delimiter.Split(body);
        if (parts.Length < 3)
        {
            throw new InvalidDataException($"multipart/signed with boundary '{boundary}' has no signed part.");
        }

        var signature = signed.OfType<MimePart>().FirstOrDefault(p =>
                p.ContentType.MimeType.EndsWith("pkcs7-signature", StringComparison.OrdinalIgnoreCase))
            ?? throw new InvalidDataException("multipart/signed without an application/pkcs7-signature part.");
        return new SignedParts(Encoding.Latin1.GetBytes(parts[1]), Decode(signature));
    }

    /// <summary>The decoded DER of a top-level application/pkcs7-mime body (enveloped or opaque signed).</summary>
    public static byte[] ExtractPkcs7Mime(byte[] message)
    {
        var parsed = Parse(message);
        if (parsed.Body is not MimePart part
            || !part.ContentType.MimeType.EndsWith("pkcs7-mime", StringComparison.OrdinalIgnoreCase))
        {
            throw new InvalidDataException($"Not application/pkcs7-mime: {parsed.Body?.ContentType.MimeType ?? "(no body)"}");
        }

        return Decode(part);
    }

    private static MimeMessage Parse(byte[] message)
    {
        using var stream = new MemoryStream(message, writable: false);
        return MimeMessage.Load(stream);
    }

    private static byte[] Decode(MimePart part)
    {
        var content = part.Content ?? throw new InvalidDataException($"{part.ContentType.MimeType} part has no content.");
        using var decoded = new MemoryStream();
        content.DecodeTo(decoded);
        return decoded.ToArray();
    }
}
