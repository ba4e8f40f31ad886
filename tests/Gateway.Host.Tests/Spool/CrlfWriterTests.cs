using Gateway.Spool;
using Gateway.Testing;

namespace Gateway.Tests.Spool;

/// <summary>
/// What goes into the spool has CRLF line ends, whatever the segments the data arrived in and
/// wherever a line end falls against the writer's 64 KiB buffer.
/// </summary>
public sealed class CrlfWriterTests
{
    [Theory]
    [InlineData(65533)]
    [InlineData(65534)]
    [InlineData(65535)]
    [InlineData(65536)]
    [InlineData(131068)]
    public void ALineFeedAtTheBuffersEdge_GetsItsCarriageReturn(int before)
    {
        var bytes = Enumerable.Repeat((byte)'a', before).Concat("\nb\r\nc\n"u8.ToArray()).ToArray();
        AssertWritten(bytes, SegmentedSequence.Of(bytes));
    }

    [Fact]
    public void AgreesWithAByteAtATimeCopy_OnRandomLinesInRandomSegments()
    {
        var random = new Random(20261127);
        for (var round = 0; round < 300; round++)
        {
            var bytes = new byte[random.Next(1, round % 10 == 0 ? 200_000 : 2_000)];
            // Long lines as well as short ones, so runs cross the buffer's edge.
            var lineEnds = random.Next(2) == 0 ? 40 : 20_000;
            for (var i = 0; i < bytes.Length; i++)
                bytes[i] = random.Next(lineEnds) switch { 0 => (byte)'\n', 1 => (byte)'\r', _ => (byte)'x' };
            AssertWritten(bytes, SegmentedSequence.Cut(bytes, random, longest: random.Next(2) == 0 ? 16 : 70_000));
        }
    }

    private static void AssertWritten(byte[] bytes, System.Buffers.ReadOnlySequence<byte> data)
    {
        using var destination = new MemoryStream();
        var written = CrlfWriter.Write(data, destination);
        var expected = ByteAtATime(bytes);
        Assert.Equal(expected.Length, written);
        Assert.True(expected.AsSpan().SequenceEqual(destination.ToArray()));
    }

    /// <summary>The definition: an LF without a CR before it gets one; the CRLF before the final dot is added back.</summary>
    private static byte[] ByteAtATime(byte[] data)
    {
        var output = new List<byte>(data.Length * 2 + 2);
        byte previous = 0;
        foreach (var b in data)
        {
            if (b == (byte)'\n' && previous != (byte)'\r') output.Add((byte)'\r');
            output.Add(b);
            previous = b;
        }
        output.AddRange("\r\n"u8.ToArray());
        return [.. output];
    }
}
