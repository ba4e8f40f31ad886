using System.Text;
using Gateway.Mail;
using MimeKit;

namespace Gateway.Certificates;

/// <summary>
/// The pieces of a signed message a signature is checked over: for multipart/signed the first
/// part's exact bytes (as sent, CRLF-canonical, between the boundary lines) and the detached
/// signature; for application/pkcs7-mime signed-data the whole CMS. Re-serialising the parsed
/// MIME instead would change bytes and break good signatures.
/// </summary>
public sealed record SignedMessageParts(string? From, byte[]? Content, byte[] Signature)
{
    public bool Detached => Content is not null;

    /// <summary>The parts, or null with <paramref name="problem"/> saying why the message is not one we can check.</summary>
    public static SignedMessageParts? Split(byte[] raw, out string? problem)
    {
        var canonical = LineEnds.ToCrlf(raw);
        MimeMessage message;
        try
        {
            message = MimeMessage.Load(new MemoryStream(canonical));
        }
        catch (FormatException e)
        {
            problem = $"not a MIME message: {e.Message}";
            return null;
        }
        var from = message.From.Mailboxes.FirstOrDefault()?.Address;
        var type = message.Body?.ContentType;
        if (type is null)
        {
            problem = "the message has no body";
            return null;
        }

        if (type.IsMimeType("multipart", "signed") && message.Body is Multipart multipart && type.Boundary is { Length: > 0 } boundary)
        {
            var signature = multipart.OfType<MimePart>().FirstOrDefault(p => p.ContentType.MimeType.EndsWith("pkcs7-signature", StringComparison.OrdinalIgnoreCase));
            var content = FirstPart(canonical, boundary);
            if (signature?.Content is null || content is null)
            {
                problem = "multipart/signed without a readable first part and application/pkcs7-signature part";
                return null;
            }
            problem = null;
            return new SignedMessageParts(from, content, Decode(signature));
        }
        if (message.Body is MimePart { Content: not null } opaque
            && (type.IsMimeType("application", "pkcs7-mime") || type.IsMimeType("application", "x-pkcs7-mime"))
            && string.Equals(type.Parameters["smime-type"], "signed-data", StringComparison.OrdinalIgnoreCase))
        {
            problem = null;
            return new SignedMessageParts(from, null, Decode(opaque));
        }
        problem = $"not an S/MIME signed message (Content-Type {type.MimeType})";
        return null;
    }

    private static byte[] Decode(MimePart part)
    {
        using var bytes = new MemoryStream();
        part.Content!.DecodeTo(bytes);
        return bytes.ToArray();
    }

    /// <summary>RFC 2046 §5.1.1: the part is what lies between "CRLF--boundary" lines; the CRLF before a delimiter belongs to the delimiter.</summary>
    private static byte[]? FirstPart(byte[] message, string boundary)
    {
        var headerEnd = IndexOf(message, "\r\n\r\n"u8.ToArray(), 0);
        if (headerEnd < 0) return null;
        var body = headerEnd + 2; // keep the CRLF that ends the header block: a delimiter may follow at once
        var delimiter = Encoding.ASCII.GetBytes("\r\n--" + boundary);
        var first = IndexOf(message, delimiter, body);
        if (first < 0) return null;
        var start = IndexOf(message, "\r\n"u8.ToArray(), first + delimiter.Length);
        if (start < 0) return null;
        start += 2;
        var end = IndexOf(message, delimiter, start - 2);
        return end < start ? null : message[start..end];
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        var index = haystack.AsSpan(from).IndexOf(needle);
        return index < 0 ? -1 : from + index;
    }

}
