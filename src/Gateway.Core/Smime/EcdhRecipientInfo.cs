using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Smime;

/// <summary>
/// A KeyAgreeRecipientInfo (RFC 5652 §6.2.2) for a recipient with an EC key: ephemeral-static
/// ECDH on the recipient's curve (RFC 5753 §3.1), the X9.63 KDF over ECC-CMS-SharedInfo, and the
/// content-encryption key wrapped with AES key wrap (RFC 3394), paired per curve as Suite B pairs
/// them (RFC 6318, and RFC 5753 §8's mandatory sha256kdf with aes128-wrap for P-256): P-256 with
/// SHA-256 and AES-128 wrap, P-384 with SHA-384 and AES-256 wrap, P-521 with SHA-512 and AES-256
/// wrap. Written as OpenSSL writes it (version 3, the originator's key as id-ecPublicKey with
/// absent parameters and an uncompressed point, no ukm, the wrap algorithm with absent
/// parameters both in the key-encryption algorithm and in the SharedInfo): MimeKit/BouncyCastle
/// 2.7 hashes the wrap algorithm with NULL parameters into the SharedInfo while writing it
/// without, so OpenSSL derives another key from its messages; OpenSSL hashes the algorithm as it
/// is on the wire, which is what we write and hash.
/// </summary>
internal static class EcdhRecipientInfo
{
    private const string EcPublicKey = "1.2.840.10045.2.1";

    /// <summary>The curves written here: the KDF scheme and hash, and the wrap algorithm and its key length.</summary>
    private static readonly Dictionary<string, Pairing> Curves = new()
    {
        ["1.2.840.10045.3.1.7"] = new("1.3.132.1.11.1", HashAlgorithmName.SHA256, "2.16.840.1.101.3.4.1.5", 128, "ecdh-sha256kdf-aes128wrap"),  // P-256
        ["1.3.132.0.34"] = new("1.3.132.1.11.2", HashAlgorithmName.SHA384, "2.16.840.1.101.3.4.1.45", 256, "ecdh-sha384kdf-aes256wrap"),        // P-384
        ["1.3.132.0.35"] = new("1.3.132.1.11.3", HashAlgorithmName.SHA512, "2.16.840.1.101.3.4.1.45", 256, "ecdh-sha512kdf-aes256wrap"),        // P-521
    };

    private sealed record Pairing(string Scheme, HashAlgorithmName Hash, string Wrap, int WrapKeyBits, string Name);

    /// <summary>How the audit names the key agreement for this certificate ("keyAgreement:ecdh-sha256kdf-aes128wrap").</summary>
    public static string NameFor(X509Certificate2 certificate) =>
        "keyAgreement:" + (CurveOf(certificate) is { } curve && Curves.TryGetValue(curve, out var pairing) ? pairing.Name : "ecdh");

    public static bool IsEc(X509Certificate2 certificate) => certificate.GetKeyAlgorithm() == EcPublicKey;

    /// <summary>True for an EC key on a curve written here (P-256, P-384, P-521).</summary>
    public static bool Supports(X509Certificate2 certificate) => CurveOf(certificate) is { } curve && Curves.ContainsKey(curve);

    /// <summary>
    /// The named curve, from the key's parameters, not GetECDiffieHellmanPublicKey: that one says
    /// nothing when the key usage lacks keyAgreement, and the validator should then name the key
    /// usage, not the curve.
    /// </summary>
    private static string? CurveOf(X509Certificate2 certificate)
    {
        if (!IsEc(certificate)) return null;
        try
        {
            if (certificate.PublicKey.EncodedParameters?.RawData is not { } encoded) return null;
            var parameters = new AsnReader(encoded, AsnEncodingRules.DER);
            return parameters.PeekTag().HasSameClassAndValue(Asn1Tag.ObjectIdentifier) ? parameters.ReadObjectIdentifier() : null;
        }
        catch (AsnContentException)
        {
            return null;
        }
    }

    public static void Write(AsnWriter writer, X509Certificate2 certificate, ReadOnlyMemory<byte> issuer, ReadOnlyMemory<byte> serial, byte[] contentKey)
    {
        var pairing = CurveOf(certificate) is { } curve && Curves.TryGetValue(curve, out var found)
            ? found
            : throw new CryptographicException($"certificate {certificate.Thumbprint}: its curve is not one Gateway encrypts to");
        using var recipient = certificate.GetECDiffieHellmanPublicKey() ?? throw new CryptographicException($"certificate {certificate.Thumbprint} has no EC key to agree with");
        using var ephemeral = ECDiffieHellman.Create(recipient.ExportParameters(includePrivateParameters: false).Curve);
        using var recipientKey = recipient.PublicKey;
        byte[] shared = [], keyEncryptionKey = [], wrapped;
        try
        {
            shared = ephemeral.DeriveRawSecretAgreement(recipientKey);
            keyEncryptionKey = X963Kdf.Derive(shared, pairing.Hash, pairing.WrapKeyBits / 8, SharedInfo(pairing));
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
                writer.WriteObjectIdentifier(pairing.Scheme);
                WriteWrapAlgorithm(writer, pairing);
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

    private static void WriteWrapAlgorithm(AsnWriter writer, Pairing pairing)
    {
        using (writer.PushSequence()) writer.WriteObjectIdentifier(pairing.Wrap);
    }

    /// <summary>ECC-CMS-SharedInfo (RFC 5753 §7.2): the wrap algorithm as written, no ukm, the KEK's length in bits.</summary>
    private static byte[] SharedInfo(Pairing pairing)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            WriteWrapAlgorithm(writer, pairing);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 2)))
                writer.WriteOctetString([0, 0, (byte)(pairing.WrapKeyBits >> 8), (byte)pairing.WrapKeyBits]);
        }
        return writer.Encode();
    }
}
