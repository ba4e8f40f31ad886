using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Inbound;

/// <summary>
/// An inbound CMS envelope as <see cref="EnvelopeOpener"/> needs it, whichever kind:
/// EnvelopedData (<see cref="EnvelopedDataReader"/>, or <see cref="KeyAgreementEnvelopedDataReader"/>
/// when it has ECDH key agreement) or AES-GCM AuthEnvelopedData (<see cref="AuthEnvelopedDataReader"/>). Its recipient infos are asked which certificate
/// each names, and opened one at a time with a key, so that each envelope recipient proves its
/// own key opens the same content.
/// </summary>
public abstract class InboundEnvelope
{
    /// <summary>The recipient infos, every kind counted (only key transport and key agreement ones can be ours).</summary>
    public abstract int RecipientCount { get; }

    /// <summary>True when the content cannot be changed unnoticed (GCM's tag): no signature is needed to trust that it is what was sent.</summary>
    public abstract bool IsAuthenticated { get; }

    /// <summary>The content cipher, as the audit names it ("aes-256-gcm").</summary>
    public abstract string ContentCipher { get; }

    public abstract bool Names(int recipient, X509Certificate2 certificate);

    /// <summary>"keyTransport:rsaes-oaep" and the like, for the audit.</summary>
    public abstract string KeyManagement(int recipient);

    /// <summary>The decrypted content (an id-data payload), or why the key does not open it.</summary>
    public abstract (byte[]? Content, string? Problem) Open(int recipient, X509Certificate2 key);

    /// <summary>More than any real message carries; each one is compared with our keys.</summary>
    public const int MaximumRecipientInfos = 100;

    /// <summary>The reader for <paramref name="der"/>'s content type, or why it cannot be read.</summary>
    public static (InboundEnvelope? Envelope, string? Problem) Decode(byte[] der)
    {
        string? contentType;
        try
        {
            contentType = new AsnReader(der, AsnEncodingRules.BER).ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            return EnvelopedDataReader.TryDecode(der); // which says why, as for any EnvelopedData it cannot read
        }
        // Counted before any reader (ours, or EnvelopedCms) reads them: a million 8-byte
        // RecipientEncryptedKeys in one KeyAgreeRecipientInfo made hundreds of MiB of objects.
        if (MoreRecipientInfos(der)) return (null, $"more than the {MaximumRecipientInfos} recipient infos looked at");
        if (contentType == Smime.SmimeOids.AuthEnvelopedData) return AuthEnvelopedDataReader.TryDecode(der);
        // EnvelopedCms opens key transport with every cipher it knows, key agreement to EC keys only our reader; an
        // envelope with key agreement our reader cannot read (another cipher) still goes to EnvelopedCms, for its RSA recipients.
        return KeyAgreementEnvelopedDataReader.TryDecode(der) is { } agreement ? (agreement, null) : EnvelopedDataReader.TryDecode(der);
    }

    /// <summary>
    /// Whether the envelope's RecipientInfos (the same place in EnvelopedData and AuthEnvelopedData:
    /// after the version and any originatorInfo) are more than <see cref="MaximumRecipientInfos"/>.
    /// An envelope this cannot find them in is left to the readers, which say what is wrong with it.
    /// </summary>
    private static bool MoreRecipientInfos(byte[] der)
    {
        try
        {
            var contentInfo = new AsnReader(der, AsnEncodingRules.BER).ReadSequence();
            contentInfo.ReadObjectIdentifier();
            var data = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
            data.ReadEncodedValue(); // version
            if (data.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0))) data.ReadEncodedValue(); // originatorInfo
            return CmsRecipients.MoreThan(data.ReadSetOf(skipSortOrderValidation: true), MaximumRecipientInfos);
        }
        catch (AsnContentException)
        {
            return false;
        }
    }
}
