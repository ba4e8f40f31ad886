using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Smime;
using Org.BouncyCastle.Crypto;
using Org.BouncyCastle.Crypto.Modes;
using Org.BouncyCastle.Crypto.Parameters;

namespace Gateway.Inbound;

/// <summary>
/// AuthEnvelopedData (RFC 5083) with AES-GCM (RFC 5084), which .NET's CMS classes do not read:
/// parsed here (BER, as clients write it), the content-encryption key unwrapped with the
/// recipient's key (<see cref="CmsRecipients"/>: RSA or ECDH), the content decrypted and its tag checked by
/// BouncyCastle's GCM, over the DER of the authenticated attributes when there are any. A tag
/// that does not match yields nothing: no plaintext of a changed message is ever returned.
/// </summary>
public sealed class AuthEnvelopedDataReader : HandReadEnvelope
{
    private readonly byte[] _nonce;
    private readonly int _tagLength;
    private readonly byte[] _ciphertext;
    private readonly byte[] _tag;
    private readonly byte[]? _associatedData;

    private AuthEnvelopedDataReader(List<CmsRecipients.Entry> recipients, string cipher, byte[] nonce, int tagLength, byte[] ciphertext, byte[] tag, byte[]? associatedData)
        : base(recipients, cipher)
    {
        _nonce = nonce;
        _tagLength = tagLength;
        _ciphertext = ciphertext;
        _tag = tag;
        _associatedData = associatedData;
    }

    public static (InboundEnvelope? Envelope, string? Problem) TryDecode(byte[] der)
    {
        try
        {
            if (Read(der, SmimeOids.AuthEnvelopedData) is not { } start) return (null, "not CMS authEnveloped-data");
            if (start.Version != 0) return (null, "authEnveloped-data of a version other than 0");
            var data = start.Data;

            var content = data.ReadSequence();
            if (content.ReadObjectIdentifier() != SmimeOids.Data) return (null, "the encrypted content is not MIME data (id-data)");
            var algorithm = content.ReadSequence();
            var cipher = algorithm.ReadObjectIdentifier();
            if (!SmimeOids.IsAesGcm(cipher)) return (null, $"content cipher {SmimeOids.NameOf(cipher)} in authEnveloped-data");
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
            start.End();
            return (new AuthEnvelopedDataReader(start.Recipients, cipher, nonce, tagLength, ciphertext, tag, associatedData), null);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException or OverflowException)
        {
            return (null, $"not readable CMS authEnveloped-data: {e.Message.TrimEnd('.')}");
        }
    }

    public override bool IsAuthenticated => true;

    public override (byte[]? Content, string? Problem) Open(int recipient, X509Certificate2 key)
    {
        var keyLength = SmimeOids.AesKeyLength(Cipher);
        var (contentKey, keyProblem) = CmsRecipients.Unwrap(Recipients[recipient], key);
        contentKey ??= [];
        if (keyProblem is null && contentKey.Length != keyLength) keyProblem = $"a {contentKey.Length}-byte content key for {ContentCipher}";
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
