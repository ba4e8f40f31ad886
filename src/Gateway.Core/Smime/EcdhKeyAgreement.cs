using System.Formats.Asn1;
using System.Security.Cryptography;

namespace Gateway.Smime;

/// <summary>
/// The key-encryption key of CMS ECDH key agreement (RFC 5753 §3.1), one way for both directions:
/// Z from ECDH, then the X9.63 KDF over ECC-CMS-SharedInfo (§7.2): the key-wrap
/// AlgorithmIdentifier as DER, the ukm when there is one, and the key's length in bits. OpenSSL
/// hashes the wrap algorithm as DER re-encoded from the wire; MimeKit/BouncyCastle 2.7 hashes it
/// with NULL parameters whatever it wrote, which is why neither direction uses theirs.
/// </summary>
internal static class EcdhKeyAgreement
{
    public static byte[] KeyEncryptionKey(ECDiffieHellman own, ECDiffieHellmanPublicKey other, HashAlgorithmName hash, byte[] wrapAlgorithm, byte[]? ukm, int length)
    {
        var shared = own.DeriveRawSecretAgreement(other);
        try
        {
            return X963Kdf.Derive(shared, hash, length, SharedInfo(wrapAlgorithm, ukm, length));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
        }
    }

    /// <summary>AlgorithmIdentifier { oid } with absent parameters, as RFC 3565 has AES key wrap written.</summary>
    public static byte[] WrapAlgorithm(string oid)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence()) writer.WriteObjectIdentifier(oid);
        return writer.Encode();
    }

    private static byte[] SharedInfo(byte[] wrapAlgorithm, byte[]? ukm, int length)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(wrapAlgorithm);
            if (ukm is not null)
            {
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0))) writer.WriteOctetString(ukm);
            }
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2)))
                writer.WriteOctetString([0, 0, (byte)((length * 8) >> 8), (byte)(length * 8)]);
        }
        return writer.Encode();
    }
}
