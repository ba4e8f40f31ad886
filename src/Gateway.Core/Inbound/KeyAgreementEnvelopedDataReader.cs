using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Inbound;

/// <summary>
/// EnvelopedData (RFC 5652 §6) with a KeyAgreeRecipientInfo, which .NET's EnvelopedCms cannot open
/// for EC keys: parsed here, the content key unwrapped by <see cref="CmsRecipients"/> (ECDH, or
/// RSA for the message's other recipients), the content decrypted with AES-CBC. EnvelopedData
/// without key agreement is left to <see cref="EnvelopedDataReader"/>.
/// </summary>
public sealed class KeyAgreementEnvelopedDataReader : InboundEnvelope
{
    private const string EnvelopedDataOid = "1.2.840.113549.1.7.3";
    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag Context1 = new(TagClass.ContextSpecific, 1);

    private readonly List<CmsRecipients.Entry> _recipients;
    private readonly string _cipher;
    private readonly byte[] _iv;
    private readonly byte[] _ciphertext;

    private KeyAgreementEnvelopedDataReader(List<CmsRecipients.Entry> recipients, string cipher, byte[] iv, byte[] ciphertext)
    {
        _recipients = recipients;
        _cipher = cipher;
        _iv = iv;
        _ciphertext = ciphertext;
    }

    /// <summary>The reader when the envelope has key agreement with a cipher read here; else null, and why when it has key agreement.</summary>
    public static new (InboundEnvelope? Envelope, string? Problem) Decode(byte[] der)
    {
        try
        {
            var outer = new AsnReader(der, AsnEncodingRules.BER);
            var contentInfo = outer.ReadSequence();
            if (contentInfo.ReadObjectIdentifier() != EnvelopedDataOid) return (null, null);
            var data = contentInfo.ReadSequence(Context0).ReadSequence();
            data.ReadInteger();
            if (data.PeekTag().HasSameClassAndValue(Context0)) data.ReadEncodedValue(); // originatorInfo
            var recipients = CmsRecipients.Read(data.ReadSetOf(skipSortOrderValidation: true));
            if (!recipients.Any(r => r.Kind == "keyAgreement")) return (null, null);

            var content = data.ReadSequence();
            if (content.ReadObjectIdentifier() != DataOid) return (null, "the encrypted content is not MIME data (id-data)");
            var algorithm = content.ReadSequence();
            var cipher = algorithm.ReadObjectIdentifier();
            if (AlgorithmName(cipher) is not ("aes-128-cbc" or "aes-192-cbc" or "aes-256-cbc")) return (null, $"content cipher {AlgorithmName(cipher)} with key agreement");
            var iv = algorithm.ReadOctetString();
            if (iv.Length != 16) return (null, $"a {iv.Length}-byte AES-CBC IV");
            var ciphertext = content.HasData ? content.ReadOctetString(Context0) : null;
            if (ciphertext is null) return (null, "the encrypted content is not carried in the message");
            if (data.HasData && data.PeekTag().HasSameClassAndValue(Context1)) data.ReadEncodedValue(); // unprotectedAttrs: nothing we use
            data.ThrowIfNotEmpty();
            contentInfo.ThrowIfNotEmpty();
            outer.ThrowIfNotEmpty();
            return (new KeyAgreementEnvelopedDataReader(recipients, cipher, iv, ciphertext), null);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException or OverflowException)
        {
            return (null, $"not readable CMS enveloped-data: {e.Message.TrimEnd('.')}");
        }
    }

    public override int RecipientCount => _recipients.Count;

    /// <summary>CBC has no integrity, with key agreement as with key transport.</summary>
    public override bool IsAuthenticated => false;

    public override string ContentCipher => AlgorithmName(_cipher);

    public override bool Names(int recipient, X509Certificate2 certificate) => CmsRecipients.Names(_recipients[recipient], certificate);

    public override string KeyManagement(int recipient) => CmsRecipients.KeyManagement(_recipients[recipient]);

    public override (byte[]? Content, string? Problem) Open(int recipient, X509Certificate2 key)
    {
        var (contentKey, problem) = CmsRecipients.Unwrap(_recipients[recipient], key);
        if (contentKey is null) return (null, problem);
        try
        {
            var expected = ContentCipher switch { "aes-128-cbc" => 16, "aes-192-cbc" => 24, _ => 32 };
            if (contentKey.Length != expected) return (null, $"a {contentKey.Length}-byte content key for {ContentCipher}");
            using var aes = Aes.Create();
            aes.Key = contentKey;
            return (aes.DecryptCbc(_ciphertext, _iv, PaddingMode.PKCS7), null);
        }
        catch (CryptographicException e)
        {
            return (null, e.Message.TrimEnd('.'));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(contentKey);
        }
    }
}
