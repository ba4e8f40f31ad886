using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using Gateway.Certificates;
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

    /// <summary>
    /// The CMS is SignedData with a signer or two whose signatures verify, over <paramref name="detachedContent"/>
    /// or, when that is null, over the content it carries.
    /// </summary>
    private static bool Verifies(byte[]? signedData, byte[]? detachedContent)
    {
        // Counted before anything is decoded: each signer and countersignature costs a hash of the whole content.
        if (signedData is null || SignerInfoCount.Within(signedData, out _) is not > 0) return false;
        var cms = detachedContent is null ? new SignedCms() : new SignedCms(new ContentInfo(detachedContent), detached: true);
        try
        {
            cms.Decode(signedData);
            // verifySignatureOnly: the recipient's client judges the signer's certificate; here only whether it is a signature at all.
            cms.CheckSignature(verifySignatureOnly: true);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
        finally
        {
            if (detachedContent is not null) CryptographicOperations.ZeroMemory(detachedContent); // it held mail
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
