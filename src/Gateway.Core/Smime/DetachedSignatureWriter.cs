using System.Buffers;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Policy;

namespace Gateway.Smime;

/// <summary>
/// The detached SignedData (RFC 5652 §5) of an RSA PKCS#1 v1.5 signature, written with AsnWriter:
/// the same DER, byte for byte, that SignedCms writes for the same signer, attributes and time
/// (tested), without the array SignedCms needs the whole content in. The digest is taken from
/// the canonical stream as it is read, so no further copy of the mail is made. PSS and ECDSA
/// signers stay with SignedCms.
/// </summary>
internal static class DetachedSignatureWriter
{

    public static bool Supports(SmimeRequest request) =>
        request.Crypto.SignaturePadding == SignaturePadding.Pkcs1 && SmimeOids.HasRsaKey(request.Signer!);

    /// <summary>Signs what <paramref name="content"/> holds from its start to its end.</summary>
    public static byte[] Sign(Stream content, SmimeRequest request, DateTimeOffset now)
    {
        var signer = request.Signer!;
        var hash = Hash(request.Crypto.Digest);
        var digestOid = SmimeOids.Digest(request.Crypto.Digest);
        var signedAttributes = SignedAttributesSet(Digest(content, hash), signer, request.ReplyCertificate, now, request.DecryptsReplies);
        byte[] signature;
        using (var rsa = signer.GetRSAPrivateKey() ?? throw new CryptographicException($"certificate {signer.Thumbprint} has no RSA private key"))
            signature = rsa.SignData(signedAttributes, hash, RSASignaturePadding.Pkcs1);

        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(SmimeOids.SignedData);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
            using (writer.PushSequence())
            {
                writer.WriteInteger(1); // version: issuerAndSerialNumber, id-data, no attribute certificates
                using (writer.PushSetOf())
                    WriteAlgorithm(writer, digestOid);
                using (writer.PushSequence())
                    writer.WriteObjectIdentifier(SmimeOids.Data); // detached: no eContent
                using (writer.PushSetOf(new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)))
                {
                    // EndCertOnly plus explicit intermediates, as CmsSigning gives SignedCms: no X509Chain per message, no root.
                    writer.WriteEncodedValue(signer.RawDataMemory.Span);
                    foreach (var carried in request.CarriedCertificates()) writer.WriteEncodedValue(carried.RawDataMemory.Span);
                }
                using (writer.PushSetOf())
                using (writer.PushSequence())
                {
                    writer.WriteInteger(1); // version: issuerAndSerialNumber
                    using (writer.PushSequence())
                    {
                        writer.WriteEncodedValue(signer.IssuerName.RawData);
                        writer.WriteInteger(signer.SerialNumberBytes.Span);
                    }
                    WriteAlgorithm(writer, digestOid);
                    // The attributes are signed as a SET OF (tag 0x31) and carried as [0] IMPLICIT (tag 0xA0).
                    var implicitAttributes = ArrayPool<byte>.Shared.Rent(signedAttributes.Length);
                    signedAttributes.CopyTo(implicitAttributes, 0);
                    implicitAttributes[0] = 0xA0;
                    writer.WriteEncodedValue(implicitAttributes.AsSpan(0, signedAttributes.Length));
                    ArrayPool<byte>.Shared.Return(implicitAttributes);
                    WriteAlgorithm(writer, SmimeOids.RsaEncryption);
                    writer.WriteOctetString(signature);
                }
            }
        }
        return writer.Encode();
    }

    private static byte[] SignedAttributesSet(byte[] digest, X509Certificate2 signer, X509Certificate2? reply, DateTimeOffset now, bool decryptsReplies)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSetOf()) // DER sorts the attributes, as SignedCms does
        {
            WriteAttribute(writer, SmimeOids.ContentType, value => value.WriteObjectIdentifier(SmimeOids.Data));
            WriteAttribute(writer, SmimeOids.SigningTime, value => value.WriteEncodedValue(SignedAttributes.SigningTime(now).RawData));
            WriteAttribute(writer, SmimeOids.MessageDigest, value => value.WriteOctetString(digest));
            WriteAttribute(writer, SmimeOids.SmimeCapabilities, value => value.WriteEncodedValue(SignedAttributes.SmimeCapabilities(decryptsReplies).RawData));
            WriteAttribute(writer, SmimeOids.SigningCertificateV2, value => value.WriteEncodedValue(SignedAttributes.SigningCertificateV2(signer).RawData));
            if (reply is not null)
            {
                WriteAttribute(writer, SmimeOids.EncryptionKeyPreference, value => value.WriteEncodedValue(SignedAttributes.EncryptionKeyPreference(reply).RawData));
                WriteAttribute(writer, SmimeOids.MicrosoftEncryptionKeyPreference, value => value.WriteEncodedValue(SignedAttributes.MicrosoftEncryptionKeyPreference(reply).RawData));
            }
        }
        return writer.Encode();
    }

    private static void WriteAttribute(AsnWriter writer, string oid, Action<AsnWriter> writeValue)
    {
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            using (writer.PushSetOf()) writeValue(writer);
        }
    }

    private static void WriteAlgorithm(AsnWriter writer, string oid)
    {
        using (writer.PushSequence()) writer.WriteObjectIdentifier(oid);
    }

    private static byte[] Digest(Stream content, HashAlgorithmName hash)
    {
        using var digest = IncrementalHash.CreateHash(hash);
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            content.Position = 0;
            int read;
            while ((read = content.Read(buffer, 0, buffer.Length)) > 0) digest.AppendData(buffer, 0, read);
            return digest.GetHashAndReset();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held the mail
        }
    }

    private static HashAlgorithmName Hash(SignatureDigest digest) => digest switch
    {
        SignatureDigest.Sha384 => HashAlgorithmName.SHA384,
        SignatureDigest.Sha512 => HashAlgorithmName.SHA512,
        _ => HashAlgorithmName.SHA256,
    };
}
