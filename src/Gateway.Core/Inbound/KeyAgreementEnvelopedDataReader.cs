using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Smime;

namespace Gateway.Inbound;

/// <summary>
/// EnvelopedData (RFC 5652 §6) with a KeyAgreeRecipientInfo, which .NET's EnvelopedCms cannot open
/// for EC keys: parsed here, the content key unwrapped by <see cref="CmsRecipients"/> (ECDH, or
/// RSA for the message's other recipients), the content decrypted with AES-CBC. EnvelopedData
/// without key agreement is left to <see cref="EnvelopedDataReader"/>.
/// </summary>
public sealed class KeyAgreementEnvelopedDataReader : HandReadEnvelope
{
    private readonly byte[] _iv;
    private readonly byte[] _ciphertext;

    private KeyAgreementEnvelopedDataReader(List<CmsRecipients.Entry> recipients, string cipher, byte[] iv, byte[] ciphertext)
        : base(recipients, cipher)
    {
        _iv = iv;
        _ciphertext = ciphertext;
    }

    /// <summary>The reader when the envelope has key agreement and AES-CBC content; else null (EnvelopedCms then tries it).</summary>
    public static KeyAgreementEnvelopedDataReader? TryDecode(byte[] der)
    {
        try
        {
            if (Read(der, SmimeOids.EnvelopedData) is not { } start || !start.Recipients.Any(r => r.Kind == CmsRecipients.Kind.KeyAgreement)) return null;
            var data = start.Data;

            var content = data.ReadSequence();
            if (content.ReadObjectIdentifier() != SmimeOids.Data) return null;
            var algorithm = content.ReadSequence();
            var cipher = algorithm.ReadObjectIdentifier();
            if (!SmimeOids.IsAesCbc(cipher)) return null;
            var iv = algorithm.ReadOctetString();
            if (iv.Length != 16 || !content.HasData) return null;
            var ciphertext = content.ReadOctetString(Context0);
            if (data.HasData && data.PeekTag().HasSameClassAndValue(Context1)) data.ReadEncodedValue(); // unprotectedAttrs: nothing we use
            start.End();
            return new KeyAgreementEnvelopedDataReader(start.Recipients, cipher, iv, ciphertext);
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException or ArgumentException or OverflowException)
        {
            return null; // EnvelopedCms reads it then, and says what is wrong with it
        }
    }

    /// <summary>CBC has no integrity, with key agreement as with key transport.</summary>
    public override bool IsAuthenticated => false;

    public override (byte[]? Content, string? Problem) Open(int recipient, X509Certificate2 key)
    {
        var (contentKey, problem) = CmsRecipients.Unwrap(Recipients[recipient], key);
        if (contentKey is null) return (null, problem);
        try
        {
            if (contentKey.Length != SmimeOids.AesKeyLength(Cipher)) return (null, $"a {contentKey.Length}-byte content key for {ContentCipher}");
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
