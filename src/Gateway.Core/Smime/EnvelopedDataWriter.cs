using System.Buffers;
using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Policy;

namespace Gateway.Smime;

/// <summary>
/// Writes a CMS EnvelopedData (RFC 5652 §6) as a stream: DER headers first, whose lengths follow
/// from the plaintext's length, then the content encrypted with AES-CBC as it is read. .NET's
/// EnvelopedCms takes and returns whole byte arrays, which held a 50 MB message four times over;
/// this holds none of it. The structure is the one EnvelopedCms writes (version 0, one
/// KeyTransRecipientInfo per RSA certificate by issuer and serial number, rsaEncryption with NULL
/// parameters or RSAES-OAEP with SHA-256 and MGF1-SHA-256, the IV as the algorithm's parameter,
/// a primitive [0] encryptedContent), so openssl, gpgsm and Outlook read it as before; an EC
/// certificate gets a KeyAgreeRecipientInfo (<see cref="EcdhRecipientInfo"/>, version 2 then).
/// </summary>
internal static class EnvelopedDataWriter
{
    private const string Mgf1Oid = "1.2.840.113549.1.1.8";
    private static readonly string Sha256Oid = SmimeOids.Digest(SignatureDigest.Sha256);
    private const int BlockSize = 16;

    /// <summary>Encrypts what <paramref name="plaintext"/> holds from its position to its end.</summary>
    public static void Write(Stream plaintext, IReadOnlyList<X509Certificate2> recipients, CryptoSettings crypto, Stream output)
    {
        var key = RandomNumberGenerator.GetBytes(SmimeOids.AesKeyLength(SmimeOids.ContentEncryption(crypto.ContentEncryption)));
        var iv = RandomNumberGenerator.GetBytes(BlockSize);
        try
        {
            var plainLength = plaintext.Length - plaintext.Position;
            var cipherLength = (plainLength / BlockSize + 1) * BlockSize; // PKCS#7 padding always adds 1..16 bytes

            var recipientInfos = RecipientInfos(recipients, key, crypto.KeyTransport);
            var contentType = Der.Tlv(writer => writer.WriteObjectIdentifier(SmimeOids.Data));
            var algorithm = Der.Tlv(writer =>
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(SmimeOids.ContentEncryption(crypto.ContentEncryption));
                    writer.WriteOctetString(iv);
                }
            });
            var encryptedContentHeader = Der.Header(0x80, cipherLength); // [0] IMPLICIT OCTET STRING, primitive
            var encryptedContentInfoLength = contentType.Length + algorithm.Length + encryptedContentHeader.Length + cipherLength;
            var encryptedContentInfoHeader = Der.Header(0x30, encryptedContentInfoLength);
            // RFC 5652 §6.1: 0 when every RecipientInfo is a version 0 one (key transport by issuer and serial), else 2.
            byte[] version = [0x02, 0x01, (byte)(recipients.Any(SmimeOids.HasEcKey) ? 2 : 0)];
            var envelopedDataLength = version.Length + recipientInfos.Length + encryptedContentInfoHeader.Length + encryptedContentInfoLength;

            foreach (var part in new[] { Der.ContentInfoHeaders(SmimeOids.EnvelopedData, envelopedDataLength), version, recipientInfos,
                                         encryptedContentInfoHeader, contentType, algorithm, encryptedContentHeader })
                output.Write(part);

            var start = output.CanSeek ? output.Position : -1;
            using (var aes = Aes.Create())
            using (var encryptor = aes.CreateEncryptor(key, iv))
            using (var encrypting = new CryptoStream(output, encryptor, CryptoStreamMode.Write, leaveOpen: true))
            {
                CopyClearing(plaintext, encrypting);
                encrypting.FlushFinalBlock();
            }
            if (start >= 0 && output.Position - start != cipherLength)
                throw new InvalidOperationException($"the plaintext changed while it was encrypted ({output.Position - start} bytes written, {cipherLength} announced)");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Stream.CopyTo returns its pooled buffer with the mail still in it; this one is cleared.</summary>
    private static void CopyClearing(Stream source, Stream destination)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = source.Read(buffer, 0, buffer.Length)) > 0) destination.Write(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true);
        }
    }

    /// <summary>RecipientInfos: one per certificate (key transport for RSA, key agreement for EC), the content-encryption key encrypted to each.</summary>
    internal static byte[] RecipientInfos(IReadOnlyList<X509Certificate2> recipients, byte[] key, KeyTransport transport)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSetOf())
        {
            foreach (var certificate in recipients)
            {
                var recipient = RecipientKeyCache.For(certificate);
                if (SmimeOids.HasEcKey(certificate))
                {
                    EcdhRecipientInfo.Write(writer, certificate, recipient.Issuer, recipient.Serial, key);
                    continue;
                }
                var encryptedKey = recipient.EncryptKey(key, transport == KeyTransport.RsaOaepSha256 ? RSAEncryptionPadding.OaepSHA256 : RSAEncryptionPadding.Pkcs1);
                using (writer.PushSequence())
                {
                    writer.WriteInteger(0);
                    using (writer.PushSequence())
                    {
                        writer.WriteEncodedValue(recipient.Issuer.Span);
                        writer.WriteEncodedValue(recipient.Serial.Span);
                    }
                    WriteKeyEncryptionAlgorithm(writer, transport);
                    writer.WriteOctetString(encryptedKey);
                }
            }
        }
        return writer.Encode();
    }

    private static void WriteKeyEncryptionAlgorithm(AsnWriter writer, KeyTransport transport)
    {
        using (writer.PushSequence())
        {
            if (transport != KeyTransport.RsaOaepSha256)
            {
                writer.WriteObjectIdentifier(SmimeOids.RsaEncryption);
                writer.WriteNull();
                return;
            }
            writer.WriteObjectIdentifier(SmimeOids.RsaesOaep);
            using (writer.PushSequence())
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0)))
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Sha256Oid);
                    writer.WriteNull();
                }
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1)))
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(Mgf1Oid);
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(Sha256Oid);
                        writer.WriteNull();
                    }
                }
            }
        }
    }
}
