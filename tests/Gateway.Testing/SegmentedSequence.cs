using System.Buffers;

namespace Gateway.Testing;

/// <summary>Bytes as a pipe hands them over: a ReadOnlySequence of several segments.</summary>
public static class SegmentedSequence
{
    public static ReadOnlySequence<byte> Of(params ReadOnlyMemory<byte>[] segments)
    {
        if (segments.Length == 0) return ReadOnlySequence<byte>.Empty;
        var head = new Segment(segments[0], 0);
        var tail = head;
        foreach (var memory in segments.Skip(1)) tail = tail.Append(memory);
        return new ReadOnlySequence<byte>(head, 0, tail, tail.Memory.Length);
    }

    /// <summary><paramref name="bytes"/> cut at random places into segments of 1 to <paramref name="longest"/> bytes.</summary>
    public static ReadOnlySequence<byte> Cut(byte[] bytes, Random random, int longest)
    {
        var segments = new List<ReadOnlyMemory<byte>>();
        for (var offset = 0; offset < bytes.Length;)
        {
            var length = Math.Min(random.Next(1, longest + 1), bytes.Length - offset);
            segments.Add(bytes.AsMemory(offset, length));
            offset += length;
        }
        return Of([.. segments]);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
