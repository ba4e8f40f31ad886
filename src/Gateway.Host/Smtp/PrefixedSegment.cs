using System.Buffers;

namespace Gateway.Smtp;

/// <summary>
/// A read-only sequence of a few prefix bytes followed by another sequence's memory, without
/// copying it. The segment objects are reused from one read to the next while the data is not
/// consumed: SmtpServer keeps a search position from an earlier read, which must stay valid.
/// </summary>
internal sealed class PrefixedChain(ReadOnlyMemory<byte> prefix)
{
    private readonly Segment _prefix = new(prefix, 0);
    private readonly List<Segment> _segments = [];

    public int PrefixLength => _prefix.Memory.Length;

    public ReadOnlySequence<byte> Build(ReadOnlySequence<byte> rest)
    {
        var last = _prefix;
        var index = 0;
        foreach (var memory in rest)
        {
            if (memory.IsEmpty) continue;
            if (index == _segments.Count) _segments.Add(new Segment(memory, 0));
            var segment = _segments[index++];
            segment.Reset(memory, last.RunningIndex + last.Memory.Length);
            last.Link(segment);
            last = segment;
        }
        last.Link(null);
        return new ReadOnlySequence<byte>(_prefix, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex) => Reset(memory, runningIndex);

        public void Reset(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public void Link(Segment? next) => Next = next;
    }
}
