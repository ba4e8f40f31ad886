using System.Buffers;

namespace Gateway.Spool;

/// <summary>
/// A journaled message in its first attempt: its envelope (the attempt updates it), where its
/// bytes are in its segment, and those bytes in memory unless the journal's memory limit was
/// reached when it was accepted (then they are read back once, when the worker takes it).
/// The memory is a pooled array, cleared when returned: it holds a plaintext message.
/// </summary>
public sealed class JournalEntry
{
    private readonly object _contentGate = new();
    private byte[]? _bytes;

    internal JournalEntry(SpoolEnvelope envelope, JournalSegment segment, long contentOffset, int contentLength, long end, byte[]? bytes)
    {
        Envelope = envelope;
        Segment = segment;
        ContentOffset = contentOffset;
        ContentLength = contentLength;
        End = end;
        _bytes = bytes;
    }

    public SpoolEnvelope Envelope { get; }
    internal JournalSegment Segment { get; }
    internal long ContentOffset { get; }
    internal int ContentLength { get; }

    /// <summary>Where its record ends in the segment: the record is durable once the segment is synced this far.</summary>
    internal long End { get; }

    /// <summary>Bytes of memory this entry holds (the pooled array's length, not the message's).</summary>
    internal long MemoryHeld { get; private set; }

    internal void CountMemory() => MemoryHeld = _bytes?.Length ?? 0;

    /// <summary>The message as spooled: from memory, or read back from its segment the first time.</summary>
    public SpooledContent Content()
    {
        lock (_contentGate)
        {
            if (_bytes is null)
            {
                var bytes = ArrayPool<byte>.Shared.Rent(ContentLength);
                try
                {
                    var read = RandomAccess.Read(Segment.Handle, bytes.AsSpan(0, ContentLength), ContentOffset);
                    if (read != ContentLength) throw new IOException($"journal segment {Segment.Path}: message {Envelope.Id} is cut short");
                }
                catch
                {
                    ArrayPool<byte>.Shared.Return(bytes, clearArray: true);
                    throw;
                }
                _bytes = bytes;
            }
            return SpooledContent.InMemory(_bytes, ContentLength);
        }
    }

    /// <summary>Returns the memory, cleared; called once nothing reads the content any more.</summary>
    internal void Release()
    {
        lock (_contentGate)
        {
            if (_bytes is not null) ArrayPool<byte>.Shared.Return(_bytes, clearArray: true);
            _bytes = null;
        }
    }
}
