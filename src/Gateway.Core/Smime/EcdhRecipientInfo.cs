using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Smime;

/// <summary>
/// A KeyAgreeRecipientInfo (RFC 5652 §6.2.2) for a recipient with an EC key: ephemeral-static
/// ECDH on the recipient's curve (RFC 5753 §3.1), the X9.63 KDF over ECC-CMS-SharedInfo with the
/// curve's hash (dhSinglePass-stdDH-sha256/384/512kdf-scheme), and the content-encryption key
/// wrapped with AES-256 key wrap (RFC 3394). Written as OpenSSL writes it (version 3, the
/// originator's key as id-ecPublicKey with absent parameters and an uncompressed point, no ukm,
/// id-aes256-wrap with absent parameters in the key-encryption algorithm and in the SharedInfo),
/// because MimeKit/BouncyCastle and OpenSSL disagree on the SharedInfo (libraries.md): OpenSSL
/// hashes the wrap algorithm as it is on the wire, so ours is the one both ends compute.
/// </summary>
internal static class EcdhRecipientInfo
{
    private const string EcPublicKey = "1.2.840.10045.2.1";
    private const string Aes256Wrap = "2.16.840.1.101.3.4.1.45";
    private const int KeyEncryptionKeyBits = 256;

    /// <summary>The curves written here, with the KDF scheme and hash RFC 5753 §7.1.4 pairs with each.</summary>
    private static readonly Dictionary<string, (string Scheme, HashAlgorithmName Hash)> Curves = new()
    {
        ["1.2.840.10045.3.1.7"] = ("1.3.132.1.11.1", HashAlgorithmName.SHA256), // P-256
        ["1.3.132.0.34"] = ("1.3.132.1.11.2", HashAlgorithmName.SHA384),        // P-384
        ["1.3.132.0.35"] = ("1.3.132.1.11.3", HashAlgorithmName.SHA512),        // P-521
    };

    public const string Name = "keyAgreement:ecdh-x963kdf-aes256wrap";

    public static bool IsEc(X509Certificate2 certificate) => certificate.GetKeyAlgorithm() == EcPublicKey;

    /// <summary>True for an EC key on a curve written here (P-256, P-384, P-521).</summary>
    public static bool Supports(X509Certificate2 certificate)
    {
        // From the key's parameters, not GetECDiffieHellmanPublicKey: that one says nothing when the key
        // usage lacks keyAgreement, and the validator should then name the key usage, not the curve.
        if (!IsEc(certificate)) return false;
        try
        {
            if (certificate.PublicKey.EncodedParameters?.RawData is not { } encoded) return false;
            var parameters = new AsnReader(encoded, AsnEncodingRules.DER);
            return parameters.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier) && Curves.ContainsKey(parameters.ReadObjectIdentifier());
        }
        catch (AsnContentException)
        {
            return false;
        }
    }

    public static void Write(AsnWriter writer, X509Certificate2 certificate, ReadOnlyMemory<byte> issuer, ReadOnlyMemory<byte> serial, byte[] contentKey)
    {
        using var recipient = certificate.GetECDiffieHellmanPublicKey() ?? throw new CryptographicException($"certificate {certificate.Thumbprint} has no EC key to agree with");
        var parameters = recipient.ExportParameters(includePrivateParameters: false);
        var (scheme, hash) = Curves.TryGetValue(parameters.Curve.Oid?.Value ?? "", out var pair)
            ? pair
            : throw new CryptographicException($"certificate {certificate.Thumbprint}: curve {parameters.Curve.Oid?.FriendlyName ?? parameters.Curve.Oid?.Value} is not supported");
        using var ephemeral = ECDiffieHellman.Create(parameters.Curve);
        var shared = ephemeral.DeriveRawSecretAgreement(recipient.PublicKey);
        var keyEncryptionKey = X963Kdf(shared, hash, SharedInfo());
        byte[] wrapped;
        try
        {
            var wrap = new AesWrapEngine();
            wrap.Init(forWrapping: true, new KeyParameter(keyEncryptionKey));
            wrapped = wrap.Wrap(contentKey, 0, contentKey.Length);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(keyEncryptionKey);
        }

        var point = ephemeral.ExportParameters(includePrivateParameters: false).Q;
        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1))) // kari [1] IMPLICIT
        {
            writer.WriteInteger(3);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0))) // originator [0] EXPLICIT
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1))) // originatorKey [1] IMPLICIT
            {
                using (writer.PushSequence()) writer.WriteObjectIdentifier(EcPublicKey);
                writer.WriteBitString([0x04, .. point.X!, .. point.Y!]);
            }
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(scheme);
                WriteWrapAlgorithm(writer);
            }
            using (writer.PushSequence()) // recipientEncryptedKeys
            using (writer.PushSequence())
            {
                using (writer.PushSequence()) // issuerAndSerialNumber
                {
                    writer.WriteEncodedValue(issuer.Span);
                    writer.WriteEncodedValue(serial.Span);
                }
                writer.WriteOctetString(wrapped);
            }
        }
    }

    private static void WriteWrapAlgorithm(AsnWriter writer)
    {
        using (writer.PushSequence()) writer.WriteObjectIdentifier(Aes256Wrap);
    }

    /// <summary>ECC-CMS-SharedInfo (RFC 5753 §7.2): the wrap algorithm as written, no ukm, the KEK's length in bits.</summary>
    private static byte[] SharedInfo()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            WriteWrapAlgorithm(writer);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2)))
                writer.WriteOctetString([0, 0, KeyEncryptionKeyBits >> 8, KeyEncryptionKeyBits & 0xFF]);
        }
        return writer.Encode();
    }

    /// <summary>ANSI X9.63 KDF (SEC 1 §3.6.1): Hash(Z || counter || SharedInfo) for counter 1, 2, … until the key is long enough.</summary>
    private static byte[] X963Kdf(byte[] shared, HashAlgorithmName hash, byte[] sharedInfo)
    {
        var key = new byte[KeyEncryptionKeyBits / 8];
        var written = 0;
        for (uint counter = 1; written < key.Length; counter++)
        {
            using var hasher = IncrementalHash.CreateHash(hash);
            hasher.AppendData(shared);
            hasher.AppendData([(byte)(counter >> 24), (byte)(counter >> 16), (byte)(counter >> 8), (byte)counter]);
            hasher.AppendData(sharedInfo);
            var block = hasher.GetHashAndReset();
            var take = Math.Min(block.Length, key.Length - written);
            block.AsSpan(0, take).CopyTo(key.AsSpan(written));
            CryptographicOperations.ZeroMemory(block);
            written += take;
        }
        return key;
    }
}
