using System.Buffers;
using System.Runtime.CompilerServices;
using MimeKit;

namespace Gateway.Relay;

/// <summary>
/// The bytes of a spooled message as a MIME part MailKit can send. Reads are synchronous (the
/// file is local and in the page cache; .NET's asynchronous file reads on Linux are thread-pool
/// hops). A message ending without CRLF gets one: DATA's final dot must start a line.
/// </summary>
internal sealed class RawBody : MimePart
{
    private const int BufferSize = 64 * 1024;
    private static readonly byte[] NewLine = "\r\n"u8.ToArray();
    private readonly Stream _content;
    private readonly bool _endsWithNewLine;

    public RawBody(Stream content) : base("application", "octet-stream")
    {
        _content = content;
        var (eightBit, length, endsWithNewLine) = Scan(content);
        _endsWithNewLine = endsWithNewLine;
        Length = length + (endsWithNewLine ? 0 : NewLine.Length);
        // Only to let MailKit see 8-bit data and announce BODY=8BITMIME (RFC 6152); the header
        // itself is hidden by RawMessage.Format and never written.
        if (eightBit) ContentTransferEncoding = ContentEncoding.EightBit;
        // Last, because adding a header sets it again: without this MimeKit writes the blank line
        // that ends a header block before the body, and these bytes bring their own.
        SetHasBodySeparator(Headers, false);
    }

    // MimeKit keeps this internal; should a later version rename it, every relay attempt fails
    // with MissingMethodException (and defers), and RelayBytesTests fail first.
    [UnsafeAccessor(UnsafeAccessorKind.Method, Name = "set_HasBodySeparator")]
    private static extern void SetHasBodySeparator(HeaderList headers, bool value);

    /// <summary>
    /// Exactly the number of bytes <see cref="WriteTo(FormatOptions, Stream, bool, CancellationToken)"/>
    /// writes: SIZE announces it, and with BDAT it is the chunk size (`BDAT n LAST`), where a byte
    /// off would leave the upstream reading message bytes as commands.
    /// </summary>
    public long Length { get; }

    public override void WriteTo(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            _content.Position = 0;
            int read;
            while ((read = _content.Read(buffer, 0, BufferSize)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                stream.Write(buffer, 0, read);
            }
            if (!_endsWithNewLine) stream.Write(NewLine, 0, NewLine.Length);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held mail
        }
    }

    public override async Task WriteToAsync(FormatOptions options, Stream stream, bool contentOnly, CancellationToken cancellationToken = default)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            _content.Position = 0;
            int read;
            while ((read = _content.Read(buffer, 0, BufferSize)) > 0)
                await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            if (!_endsWithNewLine) await stream.WriteAsync(NewLine, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held mail
        }
    }

    private static (bool EightBit, long Length, bool EndsWithNewLine) Scan(Stream content)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            content.Position = 0;
            var eightBit = false;
            long length = 0;
            byte last = 0, beforeLast = 0;
            int read;
            while ((read = content.Read(buffer, 0, BufferSize)) > 0)
            {
                var span = buffer.AsSpan(0, read);
                eightBit = eightBit || span.IndexOfAnyInRange((byte)0x80, (byte)0xFF) >= 0;
                beforeLast = read >= 2 ? span[^2] : last;
                last = span[^1];
                length += read;
            }
            content.Position = 0;
            return (eightBit, length, length >= 2 && beforeLast == '\r' && last == '\n');
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held mail
        }
    }
}
