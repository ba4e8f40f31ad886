using System.Text;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Smime;

/// <summary>
/// A body the client encrypted already, which the gateway passes on as it is (a second envelope
/// would hide nothing and break the reply path). Recognised by what it holds, never by its label
/// alone: a part that only says it is encrypted (an opaque signature labelled enveloped-data, a
/// PGP armour followed by text in clear, a multipart/encrypted around plain parts) would otherwise
/// leave in clear to a recipient policy says must get encrypted mail.
/// </summary>
internal static class ClientEncryption
{
    private const string ArmourStart = "-----BEGIN PGP MESSAGE-----";
    private const string ArmourEnd = "-----END PGP MESSAGE-----";
    private static readonly byte[] ArmourStartBytes = Encoding.ASCII.GetBytes(ArmourStart);

    // DER of the ContentInfo contentType OIDs (RFC 5652 §6.1, RFC 5083 §1.1), with tag and length.
    private static readonly byte[] EnvelopedData = [0x06, 0x09, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x07, 0x03];
    private static readonly byte[] AuthEnvelopedData = [0x06, 0x0B, 0x2A, 0x86, 0x48, 0x86, 0xF7, 0x0D, 0x01, 0x09, 0x10, 0x01, 0x17];

    public static bool IsEncrypted(MimeEntity body) => body switch
    {
        ApplicationPkcs7Mime p7m => HoldsEnvelope(p7m),
        MultipartEncrypted pgp => IsPgpMime(pgp),
        TextPart { IsPlain: true } text => StartsWithArmour(text) && IsArmouredMessageOnly(text),
        _ => false,
    };

    /// <summary>
    /// RFC 3156 §4: the control part says "Version: 1" and nothing else, the second part is the
    /// armoured message, and no text stands around them (preamble, epilogue), all of which would
    /// otherwise go out in clear, but for the one line clients put before the parts.
    /// </summary>
    private static bool IsPgpMime(MultipartEncrypted pgp) =>
        string.Equals(pgp.ContentType.Parameters["protocol"], "application/pgp-encrypted", StringComparison.OrdinalIgnoreCase)
        && pgp.Count == 2
        && IsClientsPreamble(pgp.Preamble) && string.IsNullOrWhiteSpace(pgp.Epilogue)
        && pgp[0] is MimePart control && IsVersionOne(control)
        && pgp[1] is MimePart payload && IsArmouredMessageOnly(payload);

    /// <summary>
    /// Nothing, or the one line Thunderbird, Enigmail and GPGTools write for readers without MIME:
    /// "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)" (or "RFC 2440 and 3156").
    /// </summary>
    private static bool IsClientsPreamble(string? preamble)
    {
        var text = preamble?.Trim() ?? string.Empty;
        return text.Length == 0
            || (text.StartsWith("This is an OpenPGP/MIME encrypted message", StringComparison.Ordinal) && text.Length <= 100 && !text.Contains('\n', StringComparison.Ordinal));
    }

    private static bool IsVersionOne(MimePart control)
    {
        if (control.Content is null) return false;
        using var reader = new StreamReader(control.Content.Open(), Encoding.Latin1, detectEncodingFromByteOrderMarks: false);
        // The control part is a line or two; more than a few hundred bytes is not one.
        var buffer = new char[512];
        var text = new string(buffer, 0, reader.ReadBlock(buffer, 0, buffer.Length));
        return reader.Peek() < 0 && text.Trim() == "Version: 1";
    }

    /// <summary>Only the start is read for the common case, a text body with no armour: not the whole (possibly 50 MB) body.</summary>
    private static bool StartsWithArmour(MimePart text)
    {
        if (text.Content is null) return false;
        using var decoded = text.Content.Open();
        var buffer = new byte[4096];
        try
        {
            var start = buffer.AsSpan(0, decoded.ReadAtLeast(buffer, buffer.Length, throwOnEndOfStream: false));
            return start.TrimStart(" \t\r\n"u8).StartsWith(ArmourStartBytes);
        }
        finally
        {
            Array.Clear(buffer); // it held mail
        }
    }

    /// <summary>The CMS content is EnvelopedData or AuthEnvelopedData: read from its first bytes, whatever smime-type says.</summary>
    private static bool HoldsEnvelope(MimePart part)
    {
        if (part.Content is null) return false;
        using var decoded = part.Content.Open();
        Span<byte> start = stackalloc byte[32];
        var length = decoded.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        var der = start[..length];
        // ContentInfo ::= SEQUENCE { contentType OBJECT IDENTIFIER, ... }, of definite or indefinite length.
        if (der.Length < 2 || der[0] != 0x30) return false;
        var lengthBytes = der[1] > 0x80 ? der[1] - 0x80 : 0; // long form; short form and 0x80 (indefinite) have none
        if (lengthBytes > 4 || der.Length < 2 + lengthBytes) return false;
        var contentType = der[(2 + lengthBytes)..];
        return contentType.StartsWith(EnvelopedData) || contentType.StartsWith(AuthEnvelopedData);
    }

    /// <summary>
    /// The part is one OpenPGP message in ASCII armour and nothing else but blank lines, and its
    /// first packet is a session key encrypted to a key or a passphrase (RFC 9580 §5.1, §5.3).
    /// </summary>
    private static bool IsArmouredMessageOnly(MimePart part)
    {
        if (part.Content is null) return false;
        using var reader = new StreamReader(part.Content.Open(), Encoding.Latin1, detectEncodingFromByteOrderMarks: false);
        string? line;
        while ((line = reader.ReadLine()) is not null && line.Trim().Length == 0) { }
        if (line?.TrimEnd() != ArmourStart) return false;
        while ((line = reader.ReadLine()) is not null && line.Trim().Length > 0) { } // armour headers (Version:, Comment:)
        if ((line = reader.ReadLine()) is null || !StartsWithSessionKeyPacket(line.Trim())) return false;
        while ((line = reader.ReadLine()) is not null && line.TrimEnd() != ArmourEnd) { }
        if (line is null) return false;
        while ((line = reader.ReadLine()) is not null)
            if (line.Trim().Length > 0) return false; // text after the armour would go in clear
        return true;
    }

    private static bool StartsWithSessionKeyPacket(string base64Line)
    {
        if (base64Line.Length < 4) return false;
        Span<byte> first = stackalloc byte[3];
        if (!Convert.TryFromBase64Chars(base64Line.AsSpan(0, 4), first, out var written) || written == 0) return false;
        var header = first[0];
        if ((header & 0x80) == 0) return false;
        // New packet format: the tag in the low six bits; old: in bits 5-2.
        var tag = (header & 0x40) != 0 ? header & 0x3F : (header >> 2) & 0x0F;
        return tag is 1 or 3; // Public-Key or Symmetric-Key Encrypted Session Key
    }
}
