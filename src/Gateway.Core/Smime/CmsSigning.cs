using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using MimeKit;
using MimeKit.Cryptography;
using CmsSigner = System.Security.Cryptography.Pkcs.CmsSigner;
using SubjectIdentifierType = System.Security.Cryptography.Pkcs.SubjectIdentifierType;

namespace Gateway.Smime;

/// <summary>
/// The two signature forms. Detached (multipart/signed) is the default because a reader without
/// S/MIME still sees the text; opaque (application/pkcs7-mime; smime-type=signed-data) survives
/// gateways that rewrite MIME, at the cost of being unreadable without S/MIME.
/// </summary>
internal static class CmsSigning
{
    public static MultipartSigned SignDetached(MimeEntity entity, SmimeRequest request, DateTimeOffset now, ScratchStreams scratch, long size)
    {
        // 7-bit safe before signing, so no relay on the way can re-encode what the signature covers.
        SigningPreparation.Prepare(entity);
        var canonical = SmimeTransformer.Canonicalise(entity, scratch, size);
        var signature = DetachedSignatureWriter.Supports(request)
            ? DetachedSignatureWriter.Sign(canonical.Bytes, request, now)
            : SignWithSignedCms(canonical.Bytes, request, now);

        var signed = new MultipartSigned();
        signed.ContentType.Parameters["protocol"] = "application/pkcs7-signature";
        signed.ContentType.Parameters["micalg"] = SmimeOids.Micalg(request.Crypto.Digest);
        signed.Add(canonical);
        signed.Add(new SignaturePart(signature));
        return signed;
    }

    /// <summary>PSS and ECDSA signers: what <see cref="DetachedSignatureWriter"/> does not write.</summary>
    internal static byte[] SignWithSignedCms(Stream canonical, SmimeRequest request, DateTimeOffset now)
    {
        var cleartext = Cleartext(canonical);
        try
        {
            var cms = new SignedCms(new ContentInfo(cleartext), detached: true);
            cms.ComputeSignature(Signer(request, now), silent: true);
            return cms.Encode();
        }
        finally
        {
            // SignedCms takes the content only as an array: this copy of the mail must not linger.
            CryptographicOperations.ZeroMemory(cleartext);
        }
    }

    private static byte[] Cleartext(Stream canonical)
    {
        var cleartext = new byte[canonical.Length];
        canonical.Position = 0;
        canonical.ReadExactly(cleartext);
        return cleartext;
    }

    public static ApplicationPkcs7Mime SignOpaque(MimeEntity entity, SmimeRequest request, DateTimeOffset now, ScratchStreams scratch, long size)
    {
        SigningPreparation.Prepare(entity);
        var cleartext = Cleartext(SmimeTransformer.Canonicalise(entity, scratch, size).Bytes);
        var encoded = scratch.Create(size);
        byte[]? signedData = null;
        try
        {
            var cms = new SignedCms(new ContentInfo(cleartext), detached: false);
            cms.ComputeSignature(Signer(request, now), silent: true);
            signedData = cms.Encode();
            encoded.Write(signedData);
        }
        finally
        {
            // Both arrays hold the mail (signed-data carries its content): into the scratch copy, which is released with the others.
            CryptographicOperations.ZeroMemory(cleartext);
            if (signedData is not null) CryptographicOperations.ZeroMemory(signedData);
        }
        encoded.Position = 0;
        return new Pkcs7MimePart(SecureMimeType.SignedData, encoded);
    }

    private static CmsSigner Signer(SmimeRequest request, DateTimeOffset now)
    {
        var signer = new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, request.Signer!)
        {
            DigestAlgorithm = new Oid(SmimeOids.Digest(request.Crypto.Digest)),
            // EndCertOnly plus explicit intermediates: no X509Chain is built per message, and the root stays out.
            IncludeOption = X509IncludeOption.EndCertOnly,
        };
        // PSS only for RSA keys and only when policy asks: gpgsm 2.2 cannot verify it.
        if (request.Crypto.SignaturePadding == Policy.SignaturePadding.Pss && SmimeOids.HasRsaKey(request.Signer!))
            signer.SignaturePadding = RSASignaturePadding.Pss;
        foreach (var carried in request.CarriedCertificates()) signer.Certificates.Add(carried);
        signer.SignedAttributes.Add(SignedAttributes.SigningTime(now));
        signer.SignedAttributes.Add(SignedAttributes.SmimeCapabilities(request.DecryptsReplies));
        signer.SignedAttributes.Add(SignedAttributes.SigningCertificateV2(request.Signer!));
        if (request.ReplyCertificate is { } reply)
        {
            signer.SignedAttributes.Add(SignedAttributes.EncryptionKeyPreference(reply));
            signer.SignedAttributes.Add(SignedAttributes.MicrosoftEncryptionKeyPreference(reply));
        }
        return signer;
    }
}
