using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Smime;

/// <summary>
/// A KeyAgreeRecipientInfo (RFC 5652 §6.2.2) for a recipient with an EC key: ephemeral-static
/// ECDH on the recipient's curve (RFC 5753 §3.1) and the content-encryption key wrapped with AES
/// key wrap (RFC 3394), paired per curve as Suite B pairs them (RFC 6318, and RFC 5753 §8's
/// mandatory sha256kdf with aes128-wrap for P-256): P-256 with SHA-256 and AES-128 wrap, P-384
/// with SHA-384 and AES-256 wrap, P-521 with SHA-512 and AES-256 wrap. Written as OpenSSL writes
/// it: version 3, the originator's key as id-ecPublicKey with absent parameters and an
/// uncompressed point, no ukm, the wrap algorithm with absent parameters (see <see cref="EcdhKeyAgreement"/>).
/// </summary>
internal static class EcdhRecipientInfo
{
    /// <summary>The curves written here, with their KDF scheme and key wrap.</summary>
    private static readonly Dictionary<string, (string Scheme, string Wrap)> Curves = new()
    {
        ["1.2.840.10045.3.1.7"] = (SmimeOids.EcdhSha256Kdf, SmimeOids.Aes128Wrap), // P-256
        ["1.3.132.0.34"] = (SmimeOids.EcdhSha384Kdf, SmimeOids.Aes256Wrap),        // P-384
        ["1.3.132.0.35"] = (SmimeOids.EcdhSha512Kdf, SmimeOids.Aes256Wrap),        // P-521
    };

    /// <summary>How the audit names the key agreement for this certificate ("keyAgreement:ecdh-sha256kdf-aes128wrap").</summary>
    public static string NameFor(X509Certificate2 certificate)
    {
        var (scheme, wrap) = Pairing(certificate);
        return SmimeOids.KeyAgreementName(scheme, wrap);
    }

    /// <summary>True for an EC key on a curve written here (P-256, P-384, P-521).</summary>
    public static bool Supports(X509Certificate2 certificate) => CurveOf(certificate) is { } curve && Curves.ContainsKey(curve);

    /// <summary>
    /// The named curve, from the key's parameters, not GetECDiffieHellmanPublicKey: that one says
    /// nothing when the key usage lacks keyAgreement, and the validator should then name the key
    /// usage, not the curve.
    /// </summary>
    private static string? CurveOf(X509Certificate2 certificate)
    {
        if (!SmimeOids.HasEcKey(certificate)) return null;
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

    private static (string Scheme, string Wrap) Pairing(X509Certificate2 certificate) =>
        CurveOf(certificate) is { } curve && Curves.TryGetValue(curve, out var pairing)
            ? pairing
            : throw new CryptographicException($"certificate {certificate.Thumbprint}: its curve is not one Gateway encrypts to");

    public static void Write(AsnWriter writer, X509Certificate2 certificate, ReadOnlyMemory<byte> issuer, ReadOnlyMemory<byte> serial, byte[] contentKey)
    {
        var (scheme, wrap) = Pairing(certificate);
        var wrapAlgorithm = EcdhKeyAgreement.WrapAlgorithm(wrap);
        using var recipient = certificate.GetECDiffieHellmanPublicKey() ?? throw new CryptographicException($"certificate {certificate.Thumbprint} has no EC key to agree with");
        using var ephemeral = ECDiffieHellman.Create(recipient.ExportParameters(includePrivateParameters: false).Curve);
        using var recipientKey = recipient.PublicKey;
        var keyEncryptionKey = EcdhKeyAgreement.KeyEncryptionKey(ephemeral, recipientKey, SmimeOids.KdfHash(scheme)!.Value, wrapAlgorithm, ukm: null, SmimeOids.AesKeyLength(wrap));
        byte[] wrapped;
        try
        {
            var engine = new AesWrapEngine();
            engine.Init(forWrapping: true, new KeyParameter(keyEncryptionKey));
            wrapped = engine.Wrap(contentKey, 0, contentKey.Length);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(keyEncryptionKey);
        }

        var point = ephemeral.ExportParameters(includePrivateParameters: false).Q;
        using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1))) // kari [1] IMPLICIT
        {
            writer.WriteInteger(3);
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 0))) // originator [0] EXPLICIT
            using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 1))) // originatorKey [1] IMPLICIT
            {
                using (writer.PushSequence()) writer.WriteObjectIdentifier(SmimeOids.EcPublicKey);
                writer.WriteBitString([0x04, .. point.X!, .. point.Y!]);
            }
            using (writer.PushSequence())
            {
                writer.WriteObjectIdentifier(scheme);
                writer.WriteEncodedValue(wrapAlgorithm);
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
}
