using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Inbound;

/// <summary>
/// AuthEnvelopedData (RFC 5083) with AES-GCM (RFC 5084), which .NET's CMS classes do not read:
/// parsed here (BER, as clients write it), the content-encryption key unwrapped with the
/// recipient's RSA key (PKCS#1 v1.5 or OAEP), the content decrypted and its tag checked by
/// BouncyCastle's GCM, over the DER of the authenticated attributes when there are any. A tag
/// that does not match yields nothing: no plaintext of a changed message is ever returned.
/// Key agreement (ECDH) recipient infos are counted, never ours.
/// </summary>
public sealed class AuthEnvelopedDataReader : InboundEnvelope
{
    private const string RsaEncryption = "1.2.840.113549.1.1.1";
    private const string RsaesOaep = "1.2.840.113549.1.1.7";
    private const string Mgf1 = "1.2.840.113549.1.1.8";
    private const string Sha1 = "1.3.14.3.2.26";
    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag Context1 = new(TagClass.ContextSpecific, 1);

    private readonly List<Recipient> _recipients;
    private readonly string _cipher;
    private readonly byte[] _nonce;
    private readonly int _tagLength;
    private readonly byte[] _ciphertext;
    private readonly byte[] _tag;
    private readonly byte[]? _associatedData;

    /// <param name="Rid">The issuer Name's DER, or the subject key identifier's bytes when <paramref name="ByKeyIdentifier"/>.</param>
    /// <param name="Serial">The serial number's INTEGER contents (issuerAndSerialNumber only).</param>
    private sealed record Recipient(bool KeyTransport, bool ByKeyIdentifier, byte[] Rid, byte[] Serial, string Algorithm, RSAEncryptionPadding? Padding, byte[] EncryptedKey);

    private AuthEnvelopedDataReader(List<Recipient> recipients, string cipher, byte[] nonce, int tagLength, byte[] ciphertext, byte[] tag, byte[]? associatedData)
    {
        _recipients = recipients;
        _cipher = cipher;
        _nonce = nonce;
        _tagLength = tagLength;
        _ciphertext = ciphertext;
        _tag = tag;
        _associatedData = associatedData;
    }

    public static new (InboundEnvelope? Envelope, string? Problem) Decode(byte[] der)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.BER);
            var contentInfo = outer.ReadSequence();
            if (contentInfo.ReadObjectIdentifier() != AuthEnvelopedDataOid) return (null, "not CMS authEnveloped-data");
            var data = contentInfo.ReadSequence(Context0).ReadSequence();
            if (!data.TryReadInt32(out var version) || version != 0) return (null, "authEnveloped-data of a version other than 0");
            if (data.PeekTag().HasSameClassAndValue(Context0)) data.ReadEncodedValue(); // originatorInfo
            var recipients = new List<Recipient>();
            var set = data.ReadSetOf(skipSortOrderValidation: true);
            while (set.HasData) recipients.Add(ReadRecipient(set));

            var content = data.ReadSequence();
            if (content.ReadObjectIdentifier() != DataOid) return (null, "the encrypted content is not MIME data (id-data)");
            var algorithm = content.ReadSequence();
            var cipher = algorithm.ReadObjectIdentifier();
            if (AlgorithmName(cipher) is not ("aes-128-gcm" or "aes-192-gcm" or "aes-256-gcm")) return (null, $"content cipher {AlgorithmName(cipher)} in authEnveloped-data");
            var parameters = algorithm.ReadSequence();
            var nonce = parameters.ReadOctetString();
            if (nonce.Length is 0 or > 64) return (null, $"a {nonce.Length}-byte GCM nonce");
            var tagLength = 12; // aes-ICVlen DEFAULT 12
            if (parameters.HasData && (!parameters.TryReadInt32(out tagLength) || tagLength is < 12 or > 16)) return (null, $"GCM tag length {tagLength}, not 12 to 16");
            var ciphertext = content.HasData ? content.ReadOctetString(Context0) : null;
            if (ciphertext is null) return (null, "the encrypted content is not carried in the message");

            // RFC 5083 §2.2: the authenticated attributes' DER, as a SET OF, is the GCM additional data.
            byte[]? associatedData = null;
            if (data.PeekTag().HasSameClassAndValue(Context1))
            {
                associatedData = data.ReadEncodedValue().ToArray();
                associatedData[0] = 0x31;
            }
            var tag = data.ReadOctetString();
            if (tag.Length != tagLength) return (null, $"a {tag.Length}-byte mac for a {tagLength}-byte GCM tag");
            if (data.HasData && data.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 2))) data.ReadEncodedValue(); // unauthAttrs: nothing we use
            data.ThrowIfNotEmpty();
            contentInfo.ThrowIfNotEmpty();
            outer.ThrowIfNotEmpty();
            return (new AuthEnvelopedDataReader(recipients, cipher, nonce, tagLength, ciphertext, tag, associatedData), null);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException or OverflowException)
        {
            return (null, $"not readable CMS authEnveloped-data: {e.Message.TrimEnd('.')}");
        }
    }

    private static Recipient ReadRecipient(AsnReader set)
    {
        // KeyTransRecipientInfo is a SEQUENCE; the other kinds are tagged (kari [1], kekri [2], pwri [3], ori [4]).
        if (!set.PeekTag().HasSameClassAndValue(Asn1Tag.Sequence))
        {
            set.ReadEncodedValue();
            return new Recipient(false, false, [], [], "keyAgreement or other", null, []);
        }
        var info = set.ReadSequence();
        info.TryReadInt32(out _);
        var byKeyIdentifier = info.PeekTag().HasSameClassAndValue(Context0);
        byte[] rid, serial = [];
        if (byKeyIdentifier)
        {
            rid = info.ReadOctetString(Context0);
        }
        else
        {
            var issuerAndSerial = info.ReadSequence();
            rid = issuerAndSerial.ReadEncodedValue().ToArray();
            serial = issuerAndSerial.ReadIntegerBytes().ToArray();
            issuerAndSerial.ThrowIfNotEmpty();
        }
        var algorithm = info.ReadSequence();
        var oid = algorithm.ReadObjectIdentifier();
        var padding = oid switch
        {
            RsaEncryption => RSAEncryptionPadding.Pkcs1,
            RsaesOaep => OaepPadding(algorithm),
            _ => null,
        };
        return new Recipient(true, byKeyIdentifier, rid, serial, oid, padding, info.ReadOctetString());
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

    public override int RecipientCount => _recipients.Count;

    public override bool IsAuthenticated => true;

    public override string ContentCipher => AlgorithmName(_cipher);

    public override bool Names(int recipient, X509Certificate2 certificate)
    {
        var r = _recipients[recipient];
        if (!r.KeyTransport) return false;
        if (r.ByKeyIdentifier)
            return certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any(e => e.SubjectKeyIdentifierBytes.Span.SequenceEqual(r.Rid));
        return r.Rid.AsSpan().SequenceEqual(certificate.IssuerName.RawData) && r.Serial.AsSpan().SequenceEqual(certificate.SerialNumberBytes.Span);
    }

    public override string KeyManagement(int recipient) => $"keyTransport:{AlgorithmName(_recipients[recipient].Algorithm)}";

    public override (byte[]? Content, string? Problem) Open(int recipient, X509Certificate2 key)
    {
        var r = _recipients[recipient];
        if (r.Padding is null) return (null, $"key transport {AlgorithmName(r.Algorithm)} with these parameters is not supported");
        var keyLength = ContentCipher switch { "aes-128-gcm" => 16, "aes-192-gcm" => 24, _ => 32 };
        string? keyProblem = null;
        byte[] contentKey;
        try
        {
            using var rsa = key.GetRSAPrivateKey() ?? throw new CryptographicException("the certificate has no RSA private key");
            contentKey = rsa.Decrypt(r.EncryptedKey, r.Padding);
            if (contentKey.Length != keyLength) keyProblem = $"a {contentKey.Length}-byte content key for {ContentCipher}";
        }
        catch (CryptographicException e)
        {
            keyProblem = e.Message.TrimEnd('.');
            contentKey = [];
        }
        // A key that did not unwrap still goes through GCM, with a random key that fails its tag: how
        // long an inbound message takes does not tell a sender whether its RSA padding was right
        // (Bleichenbacher), whatever the reason written to the audit.
        if (keyProblem is not null)
        {
            CryptographicOperations.ZeroMemory(contentKey);
            contentKey = RandomNumberGenerator.GetBytes(keyLength);
        }
        var output = Array.Empty<byte>();
        try
        {
            var gcm = new GcmBlockCipher(AesUtilities.CreateEngine());
            gcm.Init(forEncryption: false, new AeadParameters(new KeyParameter(contentKey), _tagLength * 8, _nonce, _associatedData));
            output = new byte[gcm.GetOutputSize(_ciphertext.Length + _tag.Length)];
            var length = gcm.ProcessBytes(_ciphertext, 0, _ciphertext.Length, output, 0);
            length += gcm.ProcessBytes(_tag, 0, _tag.Length, output, length);
            length += gcm.DoFinal(output, length);
            return keyProblem is null ? (output.AsSpan(0, length).ToArray(), null) : (null, keyProblem);
        }
        catch (InvalidCipherTextException)
        {
            return (null, keyProblem ?? "its GCM tag does not match: the message was changed after it was encrypted");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(output);
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }
}
