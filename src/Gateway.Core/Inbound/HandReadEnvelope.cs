using System.Formats.Asn1;
using System.Numerics;
using System.Security.Cryptography.X509Certificates;
using Gateway.Smime;

namespace Gateway.Inbound;

/// <summary>
/// An envelope this project reads by hand (<see cref="AuthEnvelopedDataReader"/>,
/// <see cref="KeyAgreementEnvelopedDataReader"/>): its RecipientInfos as <see cref="CmsRecipients"/>
/// reads them and its content cipher, and the start both kinds share.
/// </summary>
public abstract class HandReadEnvelope : InboundEnvelope
{
    protected static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0);
    protected static readonly Asn1Tag Context1 = new(TagClass.ContextSpecific, 1);

    private protected HandReadEnvelope(List<CmsRecipients.Entry> recipients, string cipher)
    {
        Recipients = recipients;
        Cipher = cipher;
    }

    private protected List<CmsRecipients.Entry> Recipients { get; }

    /// <summary>The content cipher's OID.</summary>
    protected string Cipher { get; }

    public override int RecipientCount => Recipients.Count;

    public override string ContentCipher => SmimeOids.NameOf(Cipher);

    public override bool Names(int recipient, X509Certificate2 certificate) => CmsRecipients.Names(Recipients[recipient], certificate);

    public override string KeyManagement(int recipient) => CmsRecipients.KeyManagement(Recipients[recipient]);

    /// <summary>
    /// ContentInfo, [0], the envelope's SEQUENCE, its version, originatorInfo skipped, its
    /// RecipientInfos: null when the content type is another. <see cref="Start.End"/> checks
    /// nothing follows once the caller has read the rest of <see cref="Start.Data"/>.
    /// </summary>
    private protected static Start? Read(byte[] der, string contentType)
    {
        var outer = new AsnReader(der, AsnEncodingRules.BER);
        var contentInfo = outer.ReadSequence();
        if (contentInfo.ReadObjectIdentifier() != contentType) return null;
        var data = contentInfo.ReadSequence(Context0).ReadSequence();
        var version = data.ReadInteger();
        if (data.PeekTag().HasSameClassAndValue(Context0)) data.ReadEncodedValue(); // originatorInfo
        return new Start(outer, contentInfo, data, version, CmsRecipients.Read(data.ReadSetOf(skipSortOrderValidation: true)));
    }

    private protected sealed record Start(AsnReader Outer, AsnReader ContentInfo, AsnReader Data, BigInteger Version, List<CmsRecipients.Entry> Recipients)
    {
        public void End()
        {
            Data.ThrowIfNotEmpty();
            ContentInfo.ThrowIfNotEmpty();
            Outer.ThrowIfNotEmpty();
        }
    }
}
