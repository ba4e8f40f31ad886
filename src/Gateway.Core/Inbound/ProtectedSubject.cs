using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Text;
using Gateway.Certificates;
using MimeKit;

namespace Gateway.Inbound;

/// <summary>
/// The Subject an RFC 9788 sender carried inside its encryption (a Cryptographic Payload marked
/// <c>hp="cipher"</c>), usually because the outside shows only "[...]". A decrypting gateway hands
/// its reader this one: their client may not read protected headers, and would show "[...]".
/// Only the Subject: the outer From and addressing are what the inbound MTA checked (SPF, DKIM,
/// DMARC), and the signature inside is the client's to judge against them.
/// </summary>
/// <param name="Value">The inner Subject's value as written (encoded words and folds kept), without its line end.</param>
/// <param name="Outside">What the sender's HP-Outer record says the outside showed, unfolded; null when it records none (the sender left no Subject outside).</param>
public sealed record ProtectedSubject(string Value, string? Outside)
{
    /// <param name="inner">The decrypted entity, CRLF line ends.</param>
    public static ProtectedSubject? Of(byte[] inner)
    {
        if (Payload(inner) is not { } payload) return null;
        MimeEntity entity;
        try
        {
            entity = MimeEntity.Load(new MemoryStream(payload, writable: false));
        }
        catch (FormatException)
        {
            return null;
        }
        if (!string.Equals(entity.ContentType.Parameters["hp"], "cipher", StringComparison.OrdinalIgnoreCase)) return null;
        if (entity.Headers.FirstOrDefault(h => h.Id == HeaderId.Subject) is not { } subject) return null;
        var outside = entity.Headers.Where(h => h.Field.Equals("HP-Outer", StringComparison.OrdinalIgnoreCase))
            .Select(h => Unfold(h.RawValue).TrimStart())
            .Where(v => v.StartsWith("Subject:", StringComparison.OrdinalIgnoreCase))
            .Select(v => v["Subject:".Length..].Trim())
            .FirstOrDefault();
        return new ProtectedSubject(Unfold(subject.RawValue).Trim(), outside);
    }

    /// <summary>
    /// The Subject value to show instead of <paramref name="outer"/> (the outer one as it arrived,
    /// unfolded; null when there is none), or null to leave it. The outer one is replaced when it is
    /// what the sender left outside; when a filter on the way put a tag before it ("[SPAM] [...]")
    /// the tag is kept; a Subject someone rewrote otherwise is left as it came, since the reader
    /// would lose what was done to it.
    /// </summary>
    public string? Shown(string? outer)
    {
        if (Outside is null) return outer is null ? Value : null;
        if (outer is null || outer == Value) return null;
        if (outer == Outside) return Value;
        return outer.EndsWith(Outside, StringComparison.Ordinal) ? outer[..^Outside.Length] + Value : null;
    }

    private static string Unfold(byte[] raw) => Encoding.Latin1.GetString(raw).Replace("\r\n", "").Replace("\n", "");

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
