using System.Buffers;
using MimeKit;

namespace Gateway.Smime;

/// <summary>
/// The signed entity of a multipart/signed, written as exactly the bytes that were signed (its
/// headers included). Parsing those bytes back with MimeKit and writing the parse again would
/// have to reproduce them byte for byte, and cost a parse and a pass through MimeKit's newline
/// filter for every copy. Only for use as a part of a multipart: its headers are in its bytes,
/// so it cannot be a message's body, whose headers MimeMessage writes itself.
/// </summary>
internal sealed class CanonicalEntity : MimeEntity
{
    private readonly Stream _signed;

    /// <param name="contentType">The signed entity's type, for readers of the object model; it is written from the bytes.</param>
    /// <param name="signed">The canonical bytes, from position 0 to the end; released (and zeroed) by its owner.</param>
    public CanonicalEntity(ContentType contentType, Stream signed) : base(contentType) => _signed = signed;

    /// <summary>The signed bytes; readers set its position.</summary>
    public Stream Bytes => _signed;

    /// <summary>Prepared before it was signed; any change now would break the signature.</summary>
    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (contentOnly) throw new NotSupportedException("a signed entity is written whole, as a part of its multipart/signed");
        cancellationToken.ThrowIfCancellationRequested();
        _signed.Position = 0;
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            int read;
            while ((read = _signed.Read(buffer, 0, buffer.Length)) > 0) stream.Write(buffer, 0, read);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held the mail
        }
    }

    public override Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        WriteTo(options, stream, contentOnly, cancellationToken);
        return Task.CompletedTask;
    }
}
