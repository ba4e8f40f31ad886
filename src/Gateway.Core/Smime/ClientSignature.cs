using System.Security.Cryptography;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Smime;

/// <summary>
/// A body the client signed already with S/MIME, which the gateway does not sign again. Recognised
/// by a signature that verifies, never by its label: a multipart/signed whose second part is no
/// CMS (or a PGP signature, which an S/MIME reader cannot check), or a part that only says
/// smime-type=signed-data, would otherwise leave without the signature policy promises the
/// recipient. Anything else is signed around, which RFC 8551 §3.5 allows for a signed entity.
/// Whether the signer is who the mail claims is the reader's client's question, with the
/// certificate the signature carries (as in <see cref="Inbound.SignatureCheck"/>).
/// </summary>
internal static class ClientSignature
{
    public static bool IsSmimeSigned(MimeEntity body) => body switch
    {
        MultipartSigned signed => IsSmimeProtocol(signed) && signed.Count == 2
            && signed[1] is MimePart signature && IsPkcs7Signature(signature)
            && Verifies(Decode(signature), Canonical(signed[0])),
        ApplicationPkcs7Mime opaque => Verifies(Decode(opaque), null),
        _ => false,
    };

    private static bool IsSmimeProtocol(MultipartSigned signed) =>
        signed.ContentType.Parameters["protocol"] is { } protocol
        && (protocol.Equals("application/pkcs7-signature", StringComparison.OrdinalIgnoreCase)
            || protocol.Equals("application/x-pkcs7-signature", StringComparison.OrdinalIgnoreCase));

    private static bool IsPkcs7Signature(MimePart part) =>
        part.ContentType.IsMimeType("application", "pkcs7-signature") || part.ContentType.IsMimeType("application", "x-pkcs7-signature");

    /// <summary><see cref="Inbound.SignatureCheck.SignatureVerifies"/>, the detached content cleared after (it held mail).</summary>
    private static bool Verifies(byte[]? signedData, byte[]? detachedContent)
    {
        try
        {
            return signedData is not null && Inbound.SignatureCheck.SignatureVerifies(signedData, detachedContent);
        }
        finally
        {
            if (detachedContent is not null) CryptographicOperations.ZeroMemory(detachedContent);
        }
    }

    private static byte[]? Decode(MimePart part)
    {
        if (part.Content is null) return null;
        using var decoded = new MemoryStream();
        part.Content.DecodeTo(decoded);
        return decoded.ToArray();
    }

    /// <summary>The first part as it is sent on (RFC 8551 §3.1.1, CRLF line ends): what the client's signature must cover.</summary>
    private static byte[] Canonical(MimeEntity entity)
    {
        using var bytes = new MemoryStream();
        entity.WriteTo(SmimeTransformer.Canonical, bytes);
        return bytes.ToArray();
    }
}
