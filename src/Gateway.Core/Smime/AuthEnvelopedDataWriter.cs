using System.Buffers;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Policy;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Smime;

/// <summary>
/// Writes a CMS AuthEnvelopedData (RFC 5083) with AES-GCM (RFC 5084) as a stream, like
/// <see cref="EnvelopedDataWriter"/>: version 0, the same RecipientInfos (key transport for RSA, key
/// agreement for EC), the content type
/// id-data with no authenticated attributes (so the GCM additional data is empty), a 12-byte
/// random nonce, a 16-byte tag written as aes-ICVlen 16 and as the mac. GCM adds no padding, so
/// every length is known before the first byte is encrypted. .NET's AesGcm is one-shot (the whole
/// message in memory); BouncyCastle's GCM streams, with AES-NI and carry-less multiply when the
/// CPU has them.
/// </summary>
internal static class AuthEnvelopedDataWriter
{
    private const int NonceSize = 12;
    private const int TagSize = 16;

    /// <summary>Encrypts what <paramref name="plaintext"/> holds from its position to its end.</summary>
    public static void Write(Stream plaintext, IReadOnlyList<X509Certificate2> recipients, CryptoSettings crypto, Stream output)
    {
        var key = RandomNumberGenerator.GetBytes(SmimeOids.AesKeyLength(SmimeOids.ContentEncryption(crypto.ContentEncryption)));
        var nonce = RandomNumberGenerator.GetBytes(NonceSize);
        try
        {
            var length = plaintext.Length - plaintext.Position;
            var recipientInfos = EnvelopedDataWriter.RecipientInfos(recipients, key, crypto.KeyTransport);
            var contentType = Der.Tlv(writer => writer.WriteObjectIdentifier(SmimeOids.Data));
            var algorithm = Der.Tlv(writer =>
            {
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier(SmimeOids.ContentEncryption(crypto.ContentEncryption));
                    using (writer.PushSequence()) // GCMParameters
                    {
                        writer.WriteOctetString(nonce);
                        writer.WriteInteger(TagSize); // not the default 12: written
                    }
                }
            });
            var encryptedContentHeader = Der.Header(0x80, length); // [0] IMPLICIT OCTET STRING, primitive
            var contentInfoLength = contentType.Length + algorithm.Length + encryptedContentHeader.Length + length;
            var contentInfoHeader = Der.Header(0x30, contentInfoLength);
            byte[] version = [0x02, 0x01, 0x00];
            var macHeader = Der.Header(0x04, TagSize);
            var authEnvelopedLength = version.Length + recipientInfos.Length + contentInfoHeader.Length + contentInfoLength + macHeader.Length + TagSize;

            foreach (var part in new[] { Der.ContentInfoHeaders(SmimeOids.AuthEnvelopedData, authEnvelopedLength), version, recipientInfos,
                                         contentInfoHeader, contentType, algorithm, encryptedContentHeader })
                output.Write(part);

            var gcm = new GcmBlockCipher(AesUtilities.CreateEngine());
            gcm.Init(forEncryption: true, new AeadParameters(new KeyParameter(key), TagSize * 8, nonce));
            var written = Encrypt(gcm, plaintext, output);
            if (written != length)
                throw new InvalidOperationException($"the plaintext changed while it was encrypted ({written} bytes written, {length} announced)");
            output.Write(macHeader);
            output.Write(gcm.GetMac());
        }
        finally
        {
            // BouncyCastle keeps copies of the key (KeyParameter, the cipher's last key, the AES round
            // keys) that it offers no way to clear; they live as long as this call's objects, unreferenced after it.
            CryptographicOperations.ZeroMemory(key);
        }
    }

    /// <summary>Streams the ciphertext; DoFinal's output is the last partial block, then the tag, which goes after it as the mac.</summary>
    private static long Encrypt(GcmBlockCipher gcm, Stream plaintext, Stream output)
    {
        const int Block = 64 * 1024;
        var input = ArrayPool<byte>.Shared.Rent(Block);
        var encrypted = ArrayPool<byte>.Shared.Rent(Block + 2 * TagSize);
        long written = 0;
        try
        {
            int read;
            while ((read = plaintext.Read(input, 0, Block)) > 0)
            {
                var n = gcm.ProcessBytes(input, 0, read, encrypted, 0);
                output.Write(encrypted, 0, n);
                written += n;
            }
            var last = gcm.DoFinal(encrypted, 0) - TagSize;
            output.Write(encrypted, 0, last);
            return written + last;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(input, clearArray: true);
            ArrayPool<byte>.Shared.Return(encrypted, clearArray: true);
        }
    }
}
