using MimeKit;

namespace Gateway.Smime;

/// <summary>
/// Makes an entity safe to sign without changing what the reader sees. Lines with trailing
/// white space (format=flowed soft breaks, the "-- " signature separator) and lines starting
/// with "From " are damaged by some relays, so such parts travel quoted-printable, which
/// protects them; then everything is made 7-bit (RFC 8551 §3.1.2). Stripping the white space
/// instead, as PGP/MIME tooling does, would sign text the sender did not write.
/// </summary>
internal static class SigningPreparation
{
    public static void Prepare(MimeEntity entity)
    {
        foreach (var part in Leaves(entity))
        {
            if (part.ContentTransferEncoding is ContentEncoding.Default or ContentEncoding.SevenBit or ContentEncoding.EightBit
                && part.Content is not null && NeedsProtection(part.Content))
                part.ContentTransferEncoding = ContentEncoding.QuotedPrintable;
        }
        entity.Prepare(EncodingConstraint.SevenBit, 78);
    }

    private static IEnumerable<MimePart> Leaves(MimeEntity entity) => entity switch
    {
        MimePart part => [part],
        Multipart multipart => multipart.SelectMany(Leaves),
        _ => [], // message/rfc822 parts are signed as they are
    };

    private static bool NeedsProtection(IMimeContent content)
    {
        using var decoded = new MemoryStream();
        content.DecodeTo(decoded);
        var bytes = decoded.GetBuffer().AsSpan(0, (int)decoded.Length);
        var lineStart = 0;
        for (var i = 0; i <= bytes.Length; i++)
        {
            if (i < bytes.Length && bytes[i] != (byte)'\n') continue;
            var line = bytes[lineStart..i];
            if (line.Length > 0 && line[^1] == (byte)'\r') line = line[..^1];
            if (line.Length > 0 && (line[^1] == (byte)' ' || line[^1] == (byte)'\t')) return true;
            if (line.StartsWith("From "u8)) return true;
            lineStart = i + 1;
        }
        return false;
    }
}
