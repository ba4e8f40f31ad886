using System.Text;
using MimeKit;
using MimeKit.IO;
using MimeKit.IO.Filters;

namespace Gateway.Smime;

/// <summary>
/// The application/pkcs7-signature part of a multipart/signed, with the header block MimeKit's
/// ApplicationPkcs7Signature gets, written as fixed bytes: setting those headers through MimeKit
/// (type, name, disposition, file name, encoding, each re-formatting its header) cost more per
/// message than encoding the signature. Only for use as a part of its multipart/signed.
/// </summary>
internal sealed class SignaturePart : MimeEntity
{
    private static readonly byte[] HeaderBlock = Encoding.ASCII.GetBytes(
        "Content-Type: application/pkcs7-signature; name=smime.p7s\r\n" +
        "Content-Disposition: attachment; filename=smime.p7s\r\n" +
        "Content-Transfer-Encoding: base64\r\n" +
        "\r\n");

    private readonly byte[] _signature;

    public SignaturePart(byte[] signature) : base(new ContentType("application", "pkcs7-signature")) => _signature = signature;

    public override void Prepare(EncodingConstraint constraint, int maxLineLength = 78)
    {
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        if (contentOnly) throw new NotSupportedException("a signature part is written whole, as a part of its multipart/signed");
        if (options.NewLineFormat == NewLineFormat.Dos)
        {
            Write(stream, cancellationToken);
            return;
        }
        using var lf = new FilteredStream(stream);
        lf.Add(new Dos2UnixFilter());
        Write(lf, cancellationToken);
        lf.Flush(cancellationToken);
    }

    private void Write(Stream stream, CancellationToken cancellationToken)
    {
        stream.Write(HeaderBlock);
        Pkcs7MimePart.WriteBase64Lines(new MemoryStream(_signature, writable: false), stream, cancellationToken);
    }

    public override Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        WriteTo(options, stream, contentOnly, cancellationToken);
        return Task.CompletedTask;
    }
}
