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

    private static int Fill(ReadOnlySpan<byte> source, byte[] buffer, ref State state)
    {
        var consumed = 0;
        foreach (var b in source)
        {
            if (state.Used >= BufferSize - 2) break;
            if (b == (byte)'\n' && state.Previous != (byte)'\r') buffer[state.Used++] = (byte)'\r';
            buffer[state.Used++] = b;
            state.Previous = b;
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
