using System.Formats.Asn1;

namespace Gateway.Smime;

/// <summary>
/// The DER pieces the streamed envelope writers put together by hand: whole small values, and
/// the tag and length of a value whose content follows later (the ciphertext, written as it is
/// made), so every length is known before the first byte of content.
/// </summary>
internal static class Der
{
    public static byte[] Tlv(Action<AsnWriter> write)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        write(writer);
        return writer.Encode();
    }

    /// <summary>A DER tag and definite length (X.690 §8.1.3).</summary>
    public static byte[] Header(byte tag, long length)
    {
        if (length < 0x80) return [tag, (byte)length];
        var count = 0;
        for (var rest = length; rest > 0; rest >>= 8) count++;
        var header = new byte[2 + count];
        header[0] = tag;
        header[1] = (byte)(0x80 | count);
        for (var i = 0; i < count; i++) header[2 + count - 1 - i] = (byte)(length >> (8 * i));
        return header;
    }

    /// <summary>
    /// What comes before a CMS content of <paramref name="length"/> bytes (its SEQUENCE's contents):
    /// the ContentInfo SEQUENCE header, its content type, the [0] EXPLICIT header and the content's
    /// own SEQUENCE header (RFC 5652 §3).
    /// </summary>
    public static byte[] ContentInfoHeaders(string contentType, long length)
    {
        var sequenceHeader = Header(0x30, length);
        var explicitLength = sequenceHeader.Length + length;
        var explicitHeader = Header(0xA0, explicitLength);
        var type = Tlv(writer => writer.WriteObjectIdentifier(contentType));
        return [.. Header(0x30, type.Length + explicitHeader.Length + explicitLength), .. type, .. explicitHeader, .. sequenceHeader];
    }
}
