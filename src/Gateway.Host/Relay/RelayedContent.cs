using System.Buffers;

namespace Gateway.Relay;

/// <summary>
/// The bytes of a spooled copy, sent exactly as they are: never parsed, so never re-encoded, and a
/// signature made earlier stays valid by construction. A copy not ending in CRLF gets one (DATA's
/// final dot must start a line, and <see cref="Length"/> counts it, since BDAT announces it).
/// Reads are synchronous: the file is local and in the page cache, and .NET's asynchronous file
/// reads on Linux are thread-pool hops.
/// </summary>
internal sealed class RelayedContent
{
    private const int BufferSize = 64 * 1024;
    private static readonly byte[] NewLine = "\r\n"u8.ToArray();
    private static readonly byte[] Dot = "."u8.ToArray();
    /// <summary>The line that ends DATA.</summary>
    internal static readonly byte[] EndOfData = ".\r\n"u8.ToArray();
    private readonly Stream _content;
    private readonly bool _endsWithNewLine;

    private RelayedContent(Stream content, long length, bool eightBit, bool endsWithNewLine)
    {
        _content = content;
        _endsWithNewLine = endsWithNewLine;
        Length = length + (endsWithNewLine ? 0 : NewLine.Length);
        EightBit = eightBit;
    }

    /// <summary>The bytes <see cref="WriteAsync"/> sends: SIZE announces it, and BDAT's chunk size must be exact, or the upstream reads message bytes as commands.</summary>
    public long Length { get; }

    /// <summary>Any octet above 127: the copy is declared BODY=8BITMIME (RFC 6152).</summary>
    public bool EightBit { get; }

    /// <summary>Reads the copy once for its length, its last line end and any 8-bit octet.</summary>
    public static RelayedContent Scan(Stream content)
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
            return new RelayedContent(content, length, eightBit, length >= 2 && beforeLast == '\r' && last == '\n');
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held mail
        }
    }

    /// <summary>The bytes as they are, for BDAT.</summary>
    public Task WriteAsync(Stream stream, CancellationToken cancellationToken) => CopyAsync(stream, dotStuffed: false, cancellationToken);

    /// <summary>
    /// For DATA: a line that starts with "." gets another in front (RFC 5321 §4.5.2), and the data
    /// ends with the line ".".
    /// </summary>
    public async Task WriteDotStuffedAsync(Stream stream, CancellationToken cancellationToken)
    {
        await CopyAsync(stream, dotStuffed: true, cancellationToken);
        await stream.WriteAsync(EndOfData, cancellationToken);
    }

    private async Task CopyAsync(Stream stream, bool dotStuffed, CancellationToken cancellationToken)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            _content.Position = 0;
            var atLineStart = true;
            int read;
            while ((read = _content.Read(buffer, 0, BufferSize)) > 0)
            {
                cancellationToken.ThrowIfCancellationRequested();
                if (!dotStuffed)
                {
                    await stream.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
                    continue;
                }
                if (atLineStart && buffer[0] == '.') await stream.WriteAsync(Dot, cancellationToken);
                var start = 0;
                int found;
                while ((found = buffer.AsSpan(start, read - start).IndexOf("\n."u8)) >= 0)
                {
                    var lineEnd = start + found + 1;
                    await stream.WriteAsync(buffer.AsMemory(start, lineEnd - start), cancellationToken);
                    await stream.WriteAsync(Dot, cancellationToken);
                    start = lineEnd; // the line's own dot goes with the next piece
                }
                await stream.WriteAsync(buffer.AsMemory(start, read - start), cancellationToken);
                atLineStart = buffer[read - 1] == '\n';
            }
            if (!_endsWithNewLine) await stream.WriteAsync(NewLine, cancellationToken);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held mail
        }
    }
}
