using System.Formats.Asn1;

namespace Gateway.Certificates;

/// <summary>
/// How many signers a CMS signed-data holds, counted by a reader pass before SignedCms decodes it.
/// SignedCms.CheckSignature verifies every SignerInfo, each a hash of the whole content, and every
/// countersignature in them: a SET of one good SignerInfo repeated thousands of times made a few
/// MiB of mail cost seconds of CPU, 50 MiB many minutes. A mail client writes one signer, rarely
/// two (RSA and EC), and no countersignature; more than <see cref="MaximumSigners"/> or
/// <see cref="MaximumCounterSigners"/> is not looked at.
/// </summary>
public static class SignerInfoCount
{
    public const int MaximumSigners = 4;

    /// <summary>In all SignerInfos together, at any depth (a countersignature may be countersigned).</summary>
    public const int MaximumCounterSigners = 4;

    private const string CounterSignature = "1.2.840.113549.1.9.6";
    private static readonly Asn1Tag Context0 = new(TagClass.ContextSpecific, 0);
    private static readonly Asn1Tag UnsignedAttributes = new(TagClass.ContextSpecific, 1, isConstructed: true);

    /// <summary>The number of SignerInfos when within both limits; otherwise null and why.</summary>
    public static int? Within(byte[] signedData, out string? problem)
    {
        try
        {
            var contentInfo = new AsnReader(signedData, AsnEncodingRules.BER).ReadSequence();
            contentInfo.ReadObjectIdentifier();
            var data = contentInfo.ReadSequence(Context0).ReadSequence();
            ReadOnlyMemory<byte> last = default;
            while (data.HasData) last = data.ReadEncodedValue(); // version, digest algorithms, content, certificates, CRLs: the SignerInfos come last
            var signers = new AsnReader(last, AsnEncodingRules.BER).ReadSetOf(skipSortOrderValidation: true);
            var (count, counterSigners) = (0, 0);
            while (signers.HasData)
            {
                if (++count > MaximumSigners)
                {
                    problem = $"more than {MaximumSigners} signers";
                    return null;
                }
                if (!CountCounterSigners(signers.ReadSequence(), ref counterSigners))
                {
                    problem = $"more than {MaximumCounterSigners} countersignatures";
                    return null;
                }
            }
            problem = null;
            return count;
        }
        catch (AsnContentException e)
        {
            problem = $"the signature is not readable CMS: {e.Message}";
            return null;
        }
    }

    /// <summary>Adds the countersignatures in <paramref name="signerInfo"/>'s unsigned attributes to <paramref name="count"/>; false once over the limit.</summary>
    private static bool CountCounterSigners(AsnReader signerInfo, ref int count)
    {
        while (signerInfo.HasData)
        {
            if (!signerInfo.PeekTag().HasSameClassAndValue(UnsignedAttributes))
            {
                signerInfo.ReadEncodedValue();
                continue;
            }
            var attributes = signerInfo.ReadSetOf(skipSortOrderValidation: true, expectedTag: UnsignedAttributes);
            while (attributes.HasData)
            {
                var attribute = attributes.ReadSequence();
                if (attribute.ReadObjectIdentifier() != CounterSignature) continue;
                var values = attribute.ReadSetOf(skipSortOrderValidation: true);
                while (values.HasData)
                {
                    if (++count > MaximumCounterSigners) return false;
                    if (!CountCounterSigners(values.ReadSequence(), ref count)) return false;
                }
            }
        }
        return true;
    }
}
