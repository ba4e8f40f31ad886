using System.Buffers;
using System.Buffers.Text;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Smime;

/// <summary>
/// application/pkcs7-mime around a DER stream (enveloped-data, or opaque signed-data), written in
/// base64 lines of 76 characters with CRLF, as MimeKit writes it, but encoded in blocks: MimeKit
/// encodes it byte by byte and then runs every line through its newline filter.
/// </summary>
internal sealed class Pkcs7MimePart(SecureMimeType type, Stream der) : ApplicationPkcs7Mime(type, der)
{
    private const int LineBytes = 57;
    private const int LineChars = 76; // the base64 of LineBytes
    private const int LinesPerBlock = 256;

    private readonly Stream _der = der;

    /// <summary>
    /// MimeKit writes smime-type=authenveloped-data; RFC 8551 §3.2.2 spells it authEnveloped-data,
    /// and a client that compares it as written must find it.
    /// </summary>
    public static Pkcs7MimePart Create(SecureMimeType type, Stream der)
    {
        var part = new Pkcs7MimePart(type, der);
        if (type == SecureMimeType.AuthEnvelopedData) part.ContentType.Parameters["smime-type"] = "authEnveloped-data";
        return part;
    }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        // The fast path writes CRLF only; anything else, a part someone re-encoded, and an empty one (which MimeKit
        // ends with a blank line when it is a message's body) go MimeKit's way.
        if (options.NewLineFormat != NewLineFormat.Dos || ContentTransferEncoding != ContentEncoding.Base64 || Content?.Stream != _der
            || !_der.CanSeek || _der.Length == 0)
        {
            base.WriteTo(options, stream, contentOnly, cancellationToken);
            return;
        }
        if (!contentOnly) Headers.WriteTo(options, stream, cancellationToken);
        WriteBase64Lines(_der, stream, cancellationToken);
    }

    public override Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        WriteTo(options, stream, contentOnly, cancellationToken);
        return Task.CompletedTask;
    }

    /// <summary>The whole of <paramref name="der"/> as base64 lines of 76 characters, each ended by CRLF, as MimeKit writes them.</summary>
    internal static void WriteBase64Lines(Stream der, Stream output, CancellationToken cancellationToken)
    {
        var input = ArrayPool<byte>.Shared.Rent(LineBytes * LinesPerBlock);
        var encoded = ArrayPool<byte>.Shared.Rent((LineChars + 2) * LinesPerBlock);
        try
        {
            der.Position = 0;
            int read;
            while ((read = der.ReadAtLeast(input.AsSpan(0, LineBytes * LinesPerBlock), LineBytes * LinesPerBlock, throwOnEndOfStream: false)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                // The block in one call (a line at a time kept the encoder on its narrowest vectors),
                // then its lines moved apart, the last first, each followed by CRLF.
                Base64.EncodeToUtf8(input.AsSpan(0, read), encoded, out _, out var written);
                var lines = (written + LineChars - 1) / LineChars;
                for (var line = lines - 1; line >= 0; line--)
                {
                    var size = Math.Min(LineChars, written - line * LineChars);
                    var to = line * (LineChars + 2);
                    encoded.AsSpan(line * LineChars, size).CopyTo(encoded.AsSpan(to));
                    encoded[to + size] = (byte)'\r';
                    encoded[to + size + 1] = (byte)'\n';
                }
                output.Write(encoded, 0, written + 2 * lines);
            }
        }
        finally
        {
            // Ciphertext, or signed-data that carries the mail: cleared like every buffer that may hold it.
            ArrayPool<byte>.Shared.Return(input, clearArray: true);
            ArrayPool<byte>.Shared.Return(encoded, clearArray: true);
        }
    }
}
