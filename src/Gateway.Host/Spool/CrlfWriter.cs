using System.Buffers;

namespace Gateway.Spool;

/// <summary>
/// Copies what SmtpServer received into the spool with CRLF line ends: a bare LF becomes CRLF,
/// so a detached signature made later covers the same bytes every verifier canonicalises to.
/// SmtpServer hands over the data without the CRLF before the final dot; it is added back.
/// </summary>
public static class CrlfWriter
{
    private const int BufferSize = 64 * 1024;

    /// <remarks>Synchronous: the data is in memory and the destination a spool file (see DurableFile.WriteAllBytes).</remarks>
    public static long Write(ReadOnlySequence<byte> data, Stream destination)
    {
        var buffer = ArrayPool<byte>.Shared.Rent(BufferSize);
        try
        {
            long written = 0;
            var state = new State();
            foreach (var segment in data)
            {
                var offset = 0;
                while (offset < segment.Length)
                {
                    offset += Fill(segment.Span[offset..], buffer, ref state);
                    if (state.Used >= BufferSize - 2)
                    {
                        destination.Write(buffer, 0, state.Used);
                        written += state.Used;
                        state.Used = 0;
                    }
                }
            }
            if (!data.IsEmpty)
            {
                // Always: the CRLF before "." belongs to the message even when the line before it was empty.
                buffer[state.Used++] = (byte)'\r';
                buffer[state.Used++] = (byte)'\n';
            }
            destination.Write(buffer, 0, state.Used);
            return written + state.Used;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held mail
        }
    }

    /// <summary>
    /// Copies from <paramref name="source"/> until the buffer is full (but for the two bytes a line
    /// end may need), run by run between line feeds: a byte at a time, this copy was a tenth of
    /// the CPU a 1 MB message cost.
    /// </summary>
    private static int Fill(ReadOnlySpan<byte> source, byte[] buffer, ref State state)
    {
        var consumed = 0;
        while (consumed < source.Length)
        {
            var room = BufferSize - 2 - state.Used;
            if (room <= 0) break;
            var rest = source[consumed..];
            var lineFeed = rest.IndexOf((byte)'\n');
            var run = Math.Min(lineFeed < 0 ? rest.Length : lineFeed, room);
            if (run > 0)
            {
                rest[..run].CopyTo(buffer.AsSpan(state.Used));
                state.Used += run;
                state.Previous = rest[run - 1];
                consumed += run;
            }
            if (run != lineFeed) continue; // no line feed yet in this run: more room, or the next call
            if (state.Previous != (byte)'\r') buffer[state.Used++] = (byte)'\r';
            buffer[state.Used++] = (byte)'\n';
            state.Previous = (byte)'\n';
            consumed++;
        }
        return consumed;
    }

    private struct State
    {
        public int Used;
        public byte Previous;
    }
}
