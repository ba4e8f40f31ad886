using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Security.Cryptography.Xml;

namespace Gateway.Inbound;

/// <summary>
/// EnvelopedData (RFC 5652 §6), read and opened by .NET's EnvelopedCms: RSA key transport, with
/// AES-CBC and older ciphers. (Key agreement to EC keys, which it cannot open, is read by
/// <see cref="KeyAgreementEnvelopedDataReader"/>.)
/// </summary>
public sealed class EnvelopedDataReader : InboundEnvelope
{
    private readonly byte[] _der;
    private readonly List<RecipientInfo> _infos;
    private readonly string? _cipher;

    private EnvelopedDataReader(byte[] der, List<RecipientInfo> infos, string? cipher)
    {
        _der = der;
        _infos = infos;
        _cipher = cipher;
    }

    public static (InboundEnvelope? Envelope, string? Problem) TryDecode(byte[] der)
    {
        var cms = new EnvelopedCms();
        try
        {
            cms.Decode(der);
        }
        catch (CryptographicException e)
        {
            return (null, $"not readable CMS enveloped-data: {e.Message.TrimEnd('.')}");
        }
        return (new EnvelopedDataReader(der, cms.RecipientInfos.Cast<RecipientInfo>().ToList(), cms.ContentEncryptionAlgorithm.Oid.Value), null);
    }

    public override int RecipientCount => _infos.Count;

    /// <summary>CBC has no integrity: a changed ciphertext decrypts to changed plaintext (EFAIL's CBC gadgets).</summary>
    public override bool IsAuthenticated => false;

    public override string ContentCipher => Smime.SmimeOids.NameOf(_cipher);

    public override bool Names(int recipient, X509Certificate2 certificate)
    {
        var identifier = _infos[recipient].RecipientIdentifier;
        return identifier.Type switch
        {
            SubjectIdentifierType.IssuerAndSerialNumber => identifier.Value is X509IssuerSerial issuerSerial
                && string.Equals(issuerSerial.SerialNumber, certificate.SerialNumber, StringComparison.OrdinalIgnoreCase)
                && issuerSerial.IssuerName == certificate.IssuerName.Name,
            SubjectIdentifierType.SubjectKeyIdentifier => identifier.Value is string keyIdentifier
                && certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().Any(e => string.Equals(e.SubjectKeyIdentifier, keyIdentifier, StringComparison.OrdinalIgnoreCase)),
            _ => false,
        };
    }

    public override string KeyManagement(int recipient)
    {
        var algorithm = _infos[recipient].KeyEncryptionAlgorithm;
        if (_infos[recipient] is KeyAgreeRecipientInfo) return $"keyAgreement:{Smime.SmimeOids.NameOf(algorithm.Oid.Value)}";
        var padding = algorithm.Oid.Value == Smime.SmimeOids.RsaesOaep && algorithm.Parameters is { Length: > 0 } parameters ? OaepOrNull(parameters) : null;
        return Smime.SmimeOids.KeyTransportName(padding, algorithm.Oid.Value);
    }

    private static RSAEncryptionPadding? OaepOrNull(byte[] parameters)
    {
        try
        {
            return CmsRecipients.OaepPadding(parameters);
        }
        catch (System.Formats.Asn1.AsnContentException)
        {
            return null;
        }
    }

    public override (byte[]? Content, string? Problem) Open(int recipient, X509Certificate2 key)
    {
        // A fresh EnvelopedCms per key: Decrypt changes the object it is called on.
        var own = new EnvelopedCms();
        try
        {
            own.Decode(_der);
            own.Decrypt(own.RecipientInfos.Cast<RecipientInfo>().ElementAt(recipient), new X509Certificate2Collection(key));
        }
        catch (CryptographicException e)
        {
            return (null, e.Message.TrimEnd('.'));
        }
        return own.ContentInfo.ContentType.Value == Smime.SmimeOids.Data
            ? (own.ContentInfo.Content, null)
            : (null, $"the decrypted content is {own.ContentInfo.ContentType.Value}, not MIME data");
    }
}
