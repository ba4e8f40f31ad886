using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Smime;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Engines;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Inbound;

/// <summary>
/// The RecipientInfos of an envelope read by hand (RFC 5652 §6.2), for the envelopes .NET's CMS
/// classes cannot open (AuthEnvelopedData, and key agreement to EC keys): key transport to RSA
/// keys (PKCS#1 v1.5, OAEP) and ephemeral-static ECDH key agreement to EC keys (RFC 5753). One
/// entry per key a content key is encrypted to: a KeyAgreeRecipientInfo naming several recipients
/// gives several. Other kinds (kekri, pwri, ori), and malformed ones, are counted and never ours.
/// </summary>
internal static class CmsRecipients
{
    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag Context1 = new(TagClass.ContextSpecific, 1);

    public enum Kind { KeyTransport, KeyAgreement, Other }

    /// <param name="Issuer">The issuer Name's DER (issuerAndSerialNumber), else empty.</param>
    /// <param name="KeyIdentifier">The subject key identifier when the recipient is named by it, else empty.</param>
    /// <param name="Algorithm">The key transport algorithm, or the key agreement scheme.</param>
    /// <param name="Agreement">For key agreement: the originator's point, the ukm and the key wrap.</param>
    public sealed record Entry(Kind Kind, byte[] Issuer, byte[] Serial, byte[] KeyIdentifier, string Algorithm, RSAEncryptionPadding? Padding,
        byte[] EncryptedKey, KeyAgreement? Agreement = null);

    /// <param name="WrapAlgorithm">The key-wrap AlgorithmIdentifier as DER (see <see cref="EcdhKeyAgreement"/>).</param>
    public sealed record KeyAgreement(byte[]? OriginatorPoint, byte[]? UserKeyingMaterial, byte[] WrapAlgorithm, string WrapOid);

    private static Entry Unreadable(string what) => new(Kind.Other, [], [], [], what, null, []);

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

    /// <summary>
    /// Whether a RecipientInfos SET holds more than <paramref name="limit"/> entries as <see cref="Read"/>
    /// (and EnvelopedCms) count them, each RecipientEncryptedKey of a KeyAgreeRecipientInfo one:
    /// counted without reading them, and no further than one past the limit.
    /// </summary>
    public static bool MoreThan(AsnReader set, int limit)
    {
        var count = 0;
        while (set.HasData && count <= limit)
        {
            var tag = set.PeekTag();
            var encoded = set.ReadEncodedValue();
            count += tag.HasSameClassAndValue(Context1) ? KeyCount(encoded, limit + 1 - count) : 1;
        }
        return count > limit;
    }

    /// <summary>The RecipientEncryptedKeys of a KeyAgreeRecipientInfo, counted up to <paramref name="most"/>; a malformed one is one entry, as <see cref="Read"/> makes it.</summary>
    private static int KeyCount(ReadOnlyMemory<byte> encoded, int most)
    {
        try
        {
            var info = new AsnReader(encoded, AsnEncodingRules.BER).ReadSequence(Context1);
            ReadOnlyMemory<byte> keys = default;
            while (info.HasData) keys = info.ReadEncodedValue(); // version, originator, ukm, algorithm: the keys come last
            var reader = new AsnReader(keys, AsnEncodingRules.BER).ReadSequence();
            var count = 0;
            while (reader.HasData && count < most)
            {
                reader.ReadEncodedValue();
                count++;
            }
            return Math.Max(count, 1);
        }
        catch (AsnContentException)
        {
            return 1;
        }
    }

    private static Entry ReadKeyTransport(AsnReader info)
    {
        info.ReadInteger();
        var (issuer, serial, keyIdentifier) = ReadIdentifier(info);
        var algorithm = info.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        var padding = oid switch
        {
            SmimeOids.RsaEncryption => RSAEncryptionPadding.Pkcs1,
            SmimeOids.RsaesOaep => algorithm.HasData ? OaepPadding(algorithm.ReadEncodedValue().ToArray()) : RSAEncryptionPadding.OaepSHA1,
            _ => null,
        };
        var encryptedKey = info.ReadOctetString();
        info.ThrowIfNotEmpty();
        return new Entry(Kind.KeyTransport, issuer, serial, keyIdentifier, oid, padding, encryptedKey);
    }

    private static List<Entry> ReadKeyAgreement(AsnReader info)
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
        var agreement = new KeyAgreement(point, ukm, wrapAlgorithm, wrapOid);
        var keys = info.ReadSequence();
        info.ThrowIfNotEmpty();
        var entries = new List<Entry>();
        while (keys.HasData)
        {
            var encryptedKey = keys.ReadSequence();
            byte[] issuer = [], serial = [], keyIdentifier = [];
            if (encryptedKey.PeekTag().HasSameClassAndValue(Context0))
                keyIdentifier = encryptedKey.ReadSequence(Context0).ReadOctetString(); // rKeyId [0] IMPLICIT RecipientKeyIdentifier
            else (issuer, serial, _) = ReadIdentifier(encryptedKey);
            entries.Add(new Entry(Kind.KeyAgreement, issuer, serial, keyIdentifier, scheme, null, encryptedKey.ReadOctetString(), agreement));
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

    /// <summary>issuerAndSerialNumber, or a subject key identifier as [0].</summary>
    private static (byte[] Issuer, byte[] Serial, byte[] KeyIdentifier) ReadIdentifier(AsnReader reader)
    {
        if (reader.PeekTag().HasSameClassAndValue(Context0)) return ([], [], reader.ReadOctetString(Context0));
        var issuerAndSerial = reader.ReadSequence();
        var issuer = issuerAndSerial.ReadEncodedValue().ToArray();
        var serial = issuerAndSerial.ReadIntegerBytes().ToArray();
        issuerAndSerial.ThrowIfNotEmpty();
        return (issuer, serial, []);
    }

    /// <summary>RSAES-OAEP-params (RFC 8017 A.2.1): the hash, and MGF1 with the same hash (the only form .NET decrypts); SHA-1 when absent. Null for any other.</summary>
    internal static RSAEncryptionPadding? OaepPadding(byte[] parametersDer)
    {
        string hash = SmimeOids.Sha1, mgfHash = SmimeOids.Sha1;
        var outer = new AsnReader(parametersDer, AsnEncodingRules.BER);
        if (!outer.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence)) return outer.PeekTag().HasSameClassAndValue(Asn1Tag.Null) ? RSAEncryptionPadding.OaepSHA1 : null;
        var parameters = outer.ReadSequence();
        if (parameters.HasData && parameters.PeekTag().HasSameClassAndValue(Context0))
            hash = parameters.ReadSequence(Context0).ReadSequence().ReadObjectIdentifier();
        if (parameters.HasData && parameters.PeekTag().HasSameClassAndValue(Context1))
        {
            var mgf = parameters.ReadSequence(Context1).ReadSequence();
            if (mgf.ReadObjectIdentifier() != SmimeOids.Mgf1) return null;
            mgfHash = mgf.ReadSequence().ReadObjectIdentifier();
        }
        if (parameters.HasData) return null; // a pSource label: never written by mail clients
        if (hash != mgfHash) return null;
        return hash switch
        {
            SmimeOids.Sha1 => RSAEncryptionPadding.OaepSHA1,
            _ when hash == SmimeOids.Digest(Policy.SignatureDigest.Sha256) => RSAEncryptionPadding.OaepSHA256,
            _ when hash == SmimeOids.Digest(Policy.SignatureDigest.Sha384) => RSAEncryptionPadding.OaepSHA384,
            _ when hash == SmimeOids.Digest(Policy.SignatureDigest.Sha512) => RSAEncryptionPadding.OaepSHA512,
            _ => null,
        };
    }

    public static bool Names(Entry entry, X509Certificate2 certificate)
    {
        if (entry.Kind == Kind.Other) return false;
        if (entry.KeyIdentifier.Length > 0)
            return certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any(e => e.SubjectKeyIdentifierBytes.Span.SequenceEqual(entry.KeyIdentifier));
        return entry.Issuer.AsSpan().SequenceEqual(certificate.IssuerName.RawData) && entry.Serial.AsSpan().SequenceEqual(certificate.SerialNumberBytes.Span);
    }

    public static string KeyManagement(Entry entry) => entry.Agreement is { } agreement
        ? SmimeOids.KeyAgreementName(entry.Algorithm, agreement.WrapOid)
        : SmimeOids.KeyTransportName(entry.Padding, entry.Algorithm);

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
        if (entry.Padding is null) return (null, $"key transport {SmimeOids.NameOf(entry.Algorithm)} with these parameters is not supported");
        using var rsa = key.GetRSAPrivateKey();
        if (rsa is null) return (null, "the certificate has no RSA private key");
        return (rsa.Decrypt(entry.EncryptedKey, entry.Padding), null);
    }

    private static (byte[]? Key, string? Problem) Agree(Entry entry, KeyAgreement agreement, X509Certificate2 key)
    {
        if (agreement.OriginatorPoint is not { } point) return (null, "key agreement with a static originator key is not supported");
        if (SmimeOids.KdfHash(entry.Algorithm) is not { } hash) return (null, $"key agreement scheme {entry.Algorithm} is not supported");
        var wrapLength = SmimeOids.AesKeyLength(agreement.WrapOid);
        if (wrapLength == 0) return (null, $"key wrap {agreement.WrapOid} is not supported");
        using var own = key.GetECDiffieHellmanPrivateKey();
        if (own is null) return (null, "the certificate has no EC private key for key agreement");
        var size = (point.Length - 1) / 2;
        if (point.Length < 3 || point[0] != 0x04 || point.Length != 1 + 2 * size) return (null, "the originator's point is not an uncompressed EC point");
        // On our key's curve: a point that is not on it fails to import (no invalid-curve attack on our key).
        var curve = own.ExportParameters(includePrivateParameters: false).Curve;
        using var originator = ECDiffieHellman.Create(new ECParameters { Curve = curve, Q = new ECPoint { X = point[1..(1 + size)], Y = point[(1 + size)..] } });
        using var originatorKey = originator.PublicKey;
        var keyEncryptionKey = EcdhKeyAgreement.KeyEncryptionKey(own, originatorKey, hash, agreement.WrapAlgorithm, agreement.UserKeyingMaterial, wrapLength);
        try
        {
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
            CryptographicOperations.ZeroMemory(keyEncryptionKey);
        }
    }
}
