using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Smime;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Inbound;

/// <summary>
/// The RecipientInfos of an envelope read by hand (RFC 5652 §6.2), for what .NET's CMS classes do
/// not open: key transport to RSA keys (PKCS#1 v1.5, OAEP) and ephemeral-static ECDH key
/// agreement to EC keys (RFC 5753: the X9.63 KDF with SHA-1 to SHA-512, AES key wrap). One entry
/// per key a content key is encrypted to: a KeyAgreeRecipientInfo naming several recipients gives
/// several. Other kinds (kekri, pwri, ori), and malformed ones, are counted and never ours.
/// </summary>
internal static class CmsRecipients
{
    private const string RsaEncryption = "1.2.840.113549.1.1.1";
    private const string RsaesOaep = "1.2.840.113549.1.1.7";
    private const string Mgf1 = "1.2.840.113549.1.1.8";
    private const string Sha1 = "1.3.14.3.2.26";
    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag Context1 = new(TagClass.ContextSpecific, 1);
    private static readonly Asn1Tag Context2 = new(TagClass.ContextSpecific, 2);

    private static readonly Dictionary<string, (HashAlgorithmName Hash, string Name)> KdfSchemes = new()
    {
        ["1.3.133.16.840.63.0.2"] = (HashAlgorithmName.SHA1, "ecdh-sha1kdf"),
        ["1.3.132.1.11.1"] = (HashAlgorithmName.SHA256, "ecdh-sha256kdf"),
        ["1.3.132.1.11.2"] = (HashAlgorithmName.SHA384, "ecdh-sha384kdf"),
        ["1.3.132.1.11.3"] = (HashAlgorithmName.SHA512, "ecdh-sha512kdf"),
    };

    private static readonly Dictionary<string, int> WrapKeyLengths = new()
    {
        ["2.16.840.1.101.3.4.1.5"] = 16, ["2.16.840.1.101.3.4.1.25"] = 24, ["2.16.840.1.101.3.4.1.45"] = 32,
    };

    /// <param name="Issuer">The issuer Name's DER (issuerAndSerialNumber), else empty.</param>
    /// <param name="KeyIdentifier">The subject key identifier when the recipient is named by it, else empty.</param>
    /// <param name="Agreement">For key agreement: the originator's point, the ukm, the KDF scheme and the wrap algorithm as written.</param>
    public sealed record Entry(string Kind, byte[] Issuer, byte[] Serial, byte[] KeyIdentifier, string Algorithm, RSAEncryptionPadding? Padding,
        byte[] EncryptedKey, KeyAgreement? Agreement = null)
    {
        public bool Ours => Kind is "keyTransport" or "keyAgreement";
    }

    public sealed record KeyAgreement(byte[]? OriginatorPoint, byte[]? UserKeyingMaterial, string Scheme, byte[] WrapAlgorithm, string WrapOid);

    private static Entry Unreadable(string what) => new("other", [], [], [], what, null, []);

    /// <summary>Every entry of a RecipientInfos SET; one that cannot be read is an entry that names no one.</summary>
    public static List<Entry> Read(AsnReader set)
    {
        var entries = new List<Entry>();
        while (set.HasData)
        {
            var tag = set.PeekTag();
            var encoded = set.ReadEncodedValue();
            try
            {
                var reader = new AsnReader(encoded, AsnEncodingRules.BER);
                if (tag.HasSameClassAndValue(Asn1Tag.Sequence)) entries.Add(ReadKeyTransport(reader.ReadSequence()));
                else if (tag.HasSameClassAndValue(Context1)) entries.AddRange(ReadKeyAgreement(reader.ReadSequence(Context1)));
                else entries.Add(Unreadable("kekri, pwri or ori"));
            }
            catch (Exception e) when (e is AsnContentException or ArgumentException)
            {
                // One malformed RecipientInfo (for anyone) does not keep the others from being tried; it opens nothing.
                entries.Add(Unreadable($"a malformed RecipientInfo ({e.Message.TrimEnd('.')})"));
            }
        }
        return entries;
    }

    private static Entry ReadKeyTransport(AsnReader info)
    {
        info.ReadInteger();
        var (issuer, serial, keyIdentifier) = ReadIdentifier(info, Context0);
        var algorithm = info.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        var padding = oid switch
        {
            RsaEncryption => RSAEncryptionPadding.Pkcs1,
            RsaesOaep => OaepPadding(algorithm),
            _ => null,
        };
        var encryptedKey = info.ReadOctetString();
        info.ThrowIfNotEmpty();
        return new Entry("keyTransport", issuer, serial, keyIdentifier, oid, padding, encryptedKey);
    }

    private static IEnumerable<Entry> ReadKeyAgreement(AsnReader info)
    {
        info.ReadInteger();
        var originator = info.ReadSequence(Context0);
        byte[]? point = null;
        if (originator.PeekTag().HasSameClassAndValue(Context1))
        {
            var key = originator.ReadSequence(Context1);
            key.ReadSequence(); // id-ecPublicKey, with or without parameters: the curve is our key's
            point = key.ReadBitString(out var unused);
            if (unused != 0) throw new AsnContentException("the originator's public key is not whole bytes");
        }
        else originator.ReadEncodedValue(); // a static originator key by certificate: not supported, opens nothing
        byte[]? ukm = null;
        if (info.PeekTag().HasSameClassAndValue(Context1)) ukm = info.ReadSequence(Context1).ReadOctetString();
        var algorithm = info.ReadSequence();
        var scheme = algorithm.ReadObjectIdentifier();
        var (wrapAlgorithm, wrapOid) = CanonicalAlgorithm(algorithm.ReadSequence());
        var agreement = new KeyAgreement(point, ukm, scheme, wrapAlgorithm, wrapOid);
        var keys = info.ReadSequence();
        info.ThrowIfNotEmpty();
        var entries = new List<Entry>();
        while (keys.HasData)
        {
            var encryptedKey = keys.ReadSequence();
            byte[] issuer = [], serial = [], keyIdentifier = [];
            if (encryptedKey.PeekTag().HasSameClassAndValue(Context0))
            {
                var rKeyId = encryptedKey.ReadSequence(Context0); // RecipientKeyIdentifier
                keyIdentifier = rKeyId.ReadOctetString();
            }
            else (issuer, serial, _) = ReadIdentifier(encryptedKey, Context0);
            entries.Add(new Entry("keyAgreement", issuer, serial, keyIdentifier, scheme, null, encryptedKey.ReadOctetString(), agreement));
        }
        return entries;
    }

    /// <summary>
    /// The key-wrap AlgorithmIdentifier as DER, as the sender hashed it into the SharedInfo (OpenSSL
    /// re-encodes what it received, so a BER-written one is hashed as DER): its OID, and its
    /// parameters when present (NULL, from some senders).
    /// </summary>
    private static (byte[] Der, string Oid) CanonicalAlgorithm(AsnReader algorithm)
    {
        var oid = algorithm.ReadObjectIdentifier();
        var parameters = algorithm.HasData ? algorithm.ReadEncodedValue() : (ReadOnlyMemory<byte>?)null;
        algorithm.ThrowIfNotEmpty();
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier(oid);
            if (parameters is { } value)
            {
                if (value.Span.SequenceEqual(new byte[] { 0x05, 0x00 })) writer.WriteNull();
                else throw new AsnContentException("key-wrap parameters other than NULL");
            }
        }
        return (writer.Encode(), oid);
    }

    private static (byte[] Issuer, byte[] Serial, byte[] KeyIdentifier) ReadIdentifier(AsnReader reader, Asn1Tag keyIdentifierTag)
    {
        if (reader.PeekTag().HasSameClassAndValue(keyIdentifierTag)) return ([], [], reader.ReadOctetString(keyIdentifierTag));
        var issuerAndSerial = reader.ReadSequence();
        var issuer = issuerAndSerial.ReadEncodedValue().ToArray();
        var serial = issuerAndSerial.ReadIntegerBytes().ToArray();
        issuerAndSerial.ThrowIfNotEmpty();
        return (issuer, serial, []);
    }

    /// <summary>RSAES-OAEP-params (RFC 8017 A.2.1): the hash, and MGF1 with the same hash (the only form .NET decrypts); SHA-1 when absent.</summary>
    private static RSAEncryptionPadding? OaepPadding(AsnReader algorithm)
    {
        string hash = Sha1, mgfHash = Sha1;
        if (algorithm.HasData && algorithm.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            var parameters = algorithm.ReadSequence();
            if (parameters.HasData && parameters.PeekTag().HasSameClassAndValue(Context0))
                hash = parameters.ReadSequence(Context0).ReadSequence().ReadObjectIdentifier();
            if (parameters.HasData && parameters.PeekTag().HasSameClassAndValue(Context1))
            {
                var mgf = parameters.ReadSequence(Context1).ReadSequence();
                if (mgf.ReadObjectIdentifier() != Mgf1) return null;
                mgfHash = mgf.ReadSequence().ReadObjectIdentifier();
            }
            if (parameters.HasData) return null; // a pSource label: never written by mail clients
        }
        if (hash != mgfHash) return null;
        return hash switch
        {
            Sha1 => RSAEncryptionPadding.OaepSHA1,
            "2.16.840.1.101.3.4.2.1" => RSAEncryptionPadding.OaepSHA256,
            "2.16.840.1.101.3.4.2.2" => RSAEncryptionPadding.OaepSHA384,
            "2.16.840.1.101.3.4.2.3" => RSAEncryptionPadding.OaepSHA512,
            _ => null,
        };
    }

    public static bool Names(Entry entry, X509Certificate2 certificate)
    {
        if (!entry.Ours) return false;
        if (entry.KeyIdentifier.Length > 0)
            return certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any(e => e.SubjectKeyIdentifierBytes.Span.SequenceEqual(entry.KeyIdentifier));
        return entry.Issuer.AsSpan().SequenceEqual(certificate.IssuerName.RawData) && entry.Serial.AsSpan().SequenceEqual(certificate.SerialNumberBytes.Span);
    }

    public static string KeyManagement(Entry entry) => entry.Kind switch
    {
        "keyAgreement" => $"keyAgreement:{(KdfSchemes.TryGetValue(entry.Algorithm, out var scheme) ? scheme.Name : entry.Algorithm)}",
        _ => $"keyTransport:{InboundEnvelope.AlgorithmName(entry.Algorithm)}",
    };

    /// <summary>The content-encryption key, or why <paramref name="key"/> does not give it.</summary>
    public static (byte[]? Key, string? Problem) Unwrap(Entry entry, X509Certificate2 key)
    {
        try
        {
            return entry.Agreement is { } agreement ? Agree(entry, agreement, key) : Transport(entry, key);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return (null, e.Message.TrimEnd('.'));
        }
    }

    private static (byte[]? Key, string? Problem) Transport(Entry entry, X509Certificate2 key)
    {
        if (entry.Padding is null) return (null, $"key transport {InboundEnvelope.AlgorithmName(entry.Algorithm)} with these parameters is not supported");
        using var rsa = key.GetRSAPrivateKey();
        if (rsa is null) return (null, "the certificate has no RSA private key");
        return (rsa.Decrypt(entry.EncryptedKey, entry.Padding), null);
    }

    private static (byte[]? Key, string? Problem) Agree(Entry entry, KeyAgreement agreement, X509Certificate2 key)
    {
        if (agreement.OriginatorPoint is null) return (null, "key agreement with a static originator key is not supported");
        if (!KdfSchemes.TryGetValue(agreement.Scheme, out var scheme)) return (null, $"key agreement scheme {agreement.Scheme} is not supported");
        if (!WrapKeyLengths.TryGetValue(agreement.WrapOid, out var wrapLength)) return (null, $"key wrap {agreement.WrapOid} is not supported");
        using var own = key.GetECDiffieHellmanPrivateKey();
        if (own is null) return (null, "the certificate has no EC private key for key agreement");
        var curve = own.ExportParameters(includePrivateParameters: false).Curve;
        var point = agreement.OriginatorPoint;
        var size = (point.Length - 1) / 2;
        if (point.Length < 3 || point[0] != 0x04 || point.Length != 1 + 2 * size) return (null, "the originator's point is not an uncompressed EC point");
        using var originator = ECDiffieHellman.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = point[1..(1 + size)], Y = point[(1 + size)..] } });
        using var originatorKey = originator.PublicKey;
        byte[] shared = [], keyEncryptionKey = [];
        try
        {
            shared = own.DeriveRawSecretAgreement(originatorKey);
            keyEncryptionKey = X963Kdf.Derive(shared, scheme.Hash, wrapLength, SharedInfo(agreement, wrapLength));
            var wrap = new AesWrapEngine();
            wrap.Init(forWrapping: false, new KeyParameter(keyEncryptionKey));
            return (wrap.Unwrap(entry.EncryptedKey, 0, entry.EncryptedKey.Length), null);
        }
        catch (InvalidCipherTextException)
        {
            return (null, "the wrapped content key does not unwrap with the agreed key");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(shared);
            CryptographicOperations.ZeroMemory(keyEncryptionKey);
        }
    }

    /// <summary>ECC-CMS-SharedInfo (RFC 5753 §7.2) as the sender hashed it: the wrap algorithm as written, the ukm when given, the KEK's length in bits.</summary>
    private static byte[] SharedInfo(KeyAgreement agreement, int wrapLength)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteEncodedValue(agreement.WrapAlgorithm);
            if (agreement.UserKeyingMaterial is { } ukm)
            {
                using (writer.PushSequence(Context0)) writer.WriteOctetString(ukm);
            }
            using (writer.PushSequence(Context2))
                writer.WriteOctetString([0, 0, (byte)((wrapLength * 8) >> 8), (byte)(wrapLength * 8)]);
        }
        return writer.Encode();
    }
}
