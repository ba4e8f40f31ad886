using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Text;
using Gateway.Certificates;
using Gateway.Smime;
using MimeKit;

namespace Gateway.Inbound;

/// <summary>
/// The Subject an RFC 9788 sender carried inside its encryption (a Cryptographic Payload marked
/// <c>hp="cipher"</c>), usually because the outside shows only "[...]". A decrypting gateway hands
/// its reader this one: their client may not read protected headers, and would show "[...]".
/// Only the Subject: the outer From and addressing are what the inbound MTA checked (SPF, DKIM,
/// DMARC), and the signature inside is the client's to judge against them.
/// </summary>
/// <remarks>
/// Whoever holds our user's certificate writes what is inside, unseen by the inbound MTA: a value
/// with a control character (a bare CR or LF, which some readers take for a line end, a NUL) or a
/// line no MTA may carry is not put into the header block at all.
/// </remarks>
/// <param name="Value">The inner Subject's value, unfolded and trimmed: what is compared.</param>
/// <param name="Written">The same as written, its folds kept: what goes into the header block.</param>
/// <param name="Outside">What the sender's HP-Outer record says the outside showed, unfolded; null when it records none (the sender left no Subject outside).</param>
public sealed record ProtectedSubject(string Value, string Written, string? Outside)
{
    /// <summary>RFC 5322 §2.1.1's limit for a line, less "Subject:"; and a bound on the whole field.</summary>
    private const int MaxLine = 990, MaxField = 8192;

    /// <param name="inner">The decrypted entity, CRLF line ends.</param>
    public static ProtectedSubject? Of(byte[] inner)
    {
        // Nearly all mail has no hp parameter: it is not parsed a second time to learn that (an
        // opaque signature holds its payload in base64, where no "hp=" shows).
        if (!MayNameHp(inner) && ContentTypeOf(Headers(inner))?.IsMimeType("application", "pkcs7-mime") != true) return null;
        if (Payload(inner) is not { } payload || Headers(payload) is not { } headers
            || !string.Equals(ContentTypeOf(headers)?.Parameters[InjectedHeaders.Parameter], "cipher", StringComparison.OrdinalIgnoreCase))
            return null;
        if (headers.FirstOrDefault(h => h.Id == HeaderId.Subject) is not { } subject || !Writable(subject.RawValue)) return null;
        var written = Encoding.Latin1.GetString(subject.RawValue).Trim();
        var outside = headers.Where(h => h.Field.Equals(InjectedHeaders.OuterField, StringComparison.OrdinalIgnoreCase))
            .Select(h => Unfold(h.RawValue).TrimStart())
            .Where(v => v.StartsWith("Subject:", StringComparison.OrdinalIgnoreCase))
            .Select(v => v["Subject:".Length..].Trim())
            .FirstOrDefault();
        return new ProtectedSubject(Unfold(subject.RawValue).Trim(), written, outside);
    }

    /// <summary>
    /// The Subject value to write instead of <paramref name="outer"/> (the outer one as it arrived,
    /// unfolded; null when there is none), or null to leave it. The outer one is replaced when it is
    /// what the sender left outside; when a filter on the way put a tag before it ("[SPAM] [...]")
    /// the tag is kept; a Subject someone rewrote otherwise is left as it came, since the reader
    /// would lose what was done to it.
    /// </summary>
    public string? Shown(string? outer)
    {
        if (Outside is null) return outer is null ? Written : null;
        if (outer is null || outer == Value) return null;
        if (outer == Outside) return Written;
        return Outside.Length > 0 && outer.EndsWith(Outside, StringComparison.Ordinal) ? outer[..^Outside.Length] + Written : null;
    }

    /// <summary>
    /// No control character but HTAB, a CR only in a CR LF, a line end only before a fold's white
    /// space or at the very end, no line longer than an MTA may carry.
    /// </summary>
    private static bool Writable(ReadOnlySpan<byte> value)
    {
        if (value.Length > MaxField) return false;
        var line = 0;
        for (var i = 0; i < value.Length; i++)
        {
            var b = value[i];
            if (b == '\r')
            {
                var atEnd = i + 2 == value.Length;
                if (i + 1 >= value.Length || value[i + 1] != '\n' || (!atEnd && value[i + 2] is not ((byte)' ' or (byte)'\t'))) return false;
                i++;
                line = 0;
                continue;
            }
            if ((b < 0x20 && b != '\t') || b == 0x7F) return false;
            if (++line > MaxLine) return false;
        }
        return true;
    }

    /// <summary>The header block alone, or null when it cannot be read.</summary>
    private static HeaderList? Headers(byte[] entity)
    {
        try
        {
            return HeaderList.Load(new MemoryStream(entity, writable: false));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static ContentType? ContentTypeOf(HeaderList? headers) =>
        headers?[HeaderId.ContentType] is { } value && ContentType.TryParse(value, out var type) ? type : null;

    private static string Unfold(byte[] raw) => Encoding.Latin1.GetString(raw).Replace("\r\n", "");

    /// <summary>Whether "hp=" (any case) occurs at all: a parameter of that name cannot be there otherwise.</summary>
    private static bool MayNameHp(ReadOnlySpan<byte> bytes)
    {
        for (var offset = 0; ;)
        {
            var equals = bytes[offset..].IndexOf((byte)'=');
            if (equals < 0) return false;
            var at = offset + equals;
            if (at >= 2 && (bytes[at - 1] | 0x20) == 'p' && (bytes[at - 2] | 0x20) == 'h') return true;
            offset = at + 1;
        }
    }

    /// <summary>The innermost content: the signed part of a signature (detached or opaque), else the entity itself.</summary>
    private static byte[]? Payload(byte[] inner)
    {
        if (SignedMessageParts.Split(inner, out _) is not { } signed) return inner;
        if (signed.Detached) return signed.Content;
        try
        {
            var cms = new SignedCms();
            cms.Decode(signed.Signature);
            return cms.ContentInfo.Content;
        }
        catch (CryptographicException)
        {
            return null;
        }
    }
}
