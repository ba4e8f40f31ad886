using MimeKit;
using MimeKit.Cryptography;
using MimeKit.IO;
using MimeKit.IO.Filters;

namespace Gateway.Smime;

/// <summary>
/// Writes the entity to be signed into <see cref="CrlfStream"/>, which makes every line end CR LF.
/// MimeKit passes each part's content through a newline filter of its own as well, a byte at a
/// time: 7 % of the CPU of signing and encrypting a 1 MB message, for nothing the CrlfStream does
/// not do. Its leaves are written here instead, with the bytes MimeKit writes: their header block,
/// then their content as it is stored or encoded to their transfer encoding. MimeKit still writes
/// the structure around them (boundaries, preambles, epilogues), and anything a signature covers
/// already (a multipart/signed inside) or that is not a plain part.
/// </summary>
internal static class CanonicalWriter
{
    /// <summary>The line length MimeKit's encoders get from a part prepared with its default.</summary>
    private const int EncoderLineLength = 78;

    public static void Write(MimeEntity entity, FormatOptions options, CrlfStream stream)
    {
        if (entity is MimePart part && IsPlain(part))
        {
            WriteLeaf(part, options, stream, CancellationToken.None);
            return;
        }
        var swapped = new List<(Multipart Parent, int Index, MimeEntity Original)>();
        try
        {
            SwapLeaves(entity, swapped);
            entity.WriteTo(options, stream);
        }
        finally
        {
            // The caller's tree is left as it was given.
            foreach (var (parent, index, original) in swapped) parent[index] = original;
        }
    }

    private static void SwapLeaves(MimeEntity entity, List<(Multipart, int, MimeEntity)> swapped)
    {
        if (entity is not Multipart multipart || multipart is MultipartSigned) return;
        for (var i = 0; i < multipart.Count; i++)
        {
            var child = multipart[i];
            if (child is MimePart part && IsPlain(part))
            {
                swapped.Add((multipart, i, part));
                multipart[i] = new Leaf(part);
            }
            else SwapLeaves(child, swapped);
        }
    }

    /// <summary>
    /// MimeKit's own part types that do not write themselves, with content (the multipart writes no
    /// line end after a part without), in an encoding written by the encoder filters alone.
    /// </summary>
    private static bool IsPlain(MimePart part) =>
        (part.GetType() == typeof(MimePart) || part.GetType() == typeof(TextPart))
        && part.Content is not null
        && part.ContentTransferEncoding is ContentEncoding.Default or ContentEncoding.SevenBit or ContentEncoding.QuotedPrintable or ContentEncoding.Base64;

    /// <summary>MimePart.WriteTo without its newline filter.</summary>
    private static void WriteLeaf(MimePart part, FormatOptions options, Stream stream, CancellationToken cancellationToken)
    {
        part.Headers.WriteTo(options, stream, cancellationToken);
        var content = part.Content!;
        if (content.Encoding == part.ContentTransferEncoding)
        {
            content.WriteTo(stream, cancellationToken);
            return;
        }
        using var filtered = new FilteredStream(stream);
        filtered.Add(EncoderFilter.Create(part.ContentTransferEncoding, EncoderLineLength));
        content.DecodeTo(filtered, cancellationToken);
        filtered.Flush(cancellationToken);
    }

    /// <summary>Stands in for a plain part while MimeKit writes the multipart around it.</summary>
    private sealed class Leaf(MimePart part) : MimeEntity(new ContentType(part.ContentType.MediaType, part.ContentType.MediaSubtype))
    {
        /// <summary>Prepared before it stood in; nothing may change now.</summary>
        public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
        {
        }

        public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
        {
            if (contentOnly) throw new NotSupportedException("a part of the signed entity is written whole");
            WriteLeaf(part, options, stream, cancellationToken);
        }

        public override Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
        {
            WriteTo(options, stream, contentOnly, cancellationToken);
            return Task.CompletedTask;
        }
    }
}
