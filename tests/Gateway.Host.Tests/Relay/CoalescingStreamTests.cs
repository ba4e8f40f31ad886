using System.Text;
using Gateway.Relay;

namespace Gateway.Tests.Relay;

/// <summary>
/// The upstream stream gathers the session's small writes (a pipelined batch) into one send, and never holds back what
/// the other side must see before it can answer.
/// </summary>
public sealed class CoalescingStreamTests
{
    [Fact]
    public async Task BlocksWrittenBeforeAFlush_GoOutAsOneSend()
    {
        var inner = new RecordingStream();
        using var stream = new CoalescingStream(inner);

        await stream.WriteAsync(Block('a', 4096));
        await stream.WriteAsync(Block('b', 4096));
        stream.Write(Block('c', 2377));
        Assert.Empty(inner.Sends);

        await stream.FlushAsync();

        var send = Assert.Single(inner.Sends);
        Assert.Equal(4096 + 4096 + 2377, send.Length);
        Assert.Equal(Block('a', 4096).Concat(Block('b', 4096)).Concat(Block('c', 2377)), send);
        Assert.Equal(1, inner.Flushes);
    }

    [Fact]
    public async Task AReadSendsWhatWaits_FirstSoACommandWrittenWithoutAFlushStillGetsItsAnswer()
    {
        var inner = new RecordingStream { Incoming = Encoding.ASCII.GetBytes("220 ready\r\n") };
        using var stream = new CoalescingStream(inner);

        await stream.WriteAsync(Encoding.ASCII.GetBytes("EHLO gateway\r\n"));
        var buffer = new byte[64];
        var read = await stream.ReadAsync(buffer);

        Assert.Equal("EHLO gateway\r\n", Encoding.ASCII.GetString(Assert.Single(inner.Sends)));
        Assert.True(inner.SentBeforeFirstRead);
        Assert.Equal("220 ready\r\n", Encoding.ASCII.GetString(buffer, 0, read));

        stream.Write(Encoding.ASCII.GetBytes("QUIT\r\n"));
        _ = stream.Read(buffer, 0, buffer.Length);
        Assert.Equal("QUIT\r\n", Encoding.ASCII.GetString(inner.Sends[1]));
    }

    [Fact]
    public async Task NoMoreThanItsCapacityWaits_LargerWritesGoStraightThrough()
    {
        var inner = new RecordingStream();
        using var stream = new CoalescingStream(inner);

        for (var i = 0; i < 17; i++) await stream.WriteAsync(Block((char)('a' + i), 4096));
        // Sixteen blocks fill the 64 KiB; the seventeenth sends them and waits itself.
        Assert.Equal(CoalescingStream.Capacity, Assert.Single(inner.Sends).Length);

        await stream.WriteAsync(Block('z', CoalescingStream.Capacity + 1));
        Assert.Equal(3, inner.Sends.Count);
        Assert.Equal(4096, inner.Sends[1].Length);
        Assert.Equal(CoalescingStream.Capacity + 1, inner.Sends[2].Length);

        await stream.FlushAsync();
        Assert.Equal(3, inner.Sends.Count); // nothing was left waiting
        Assert.Equal(17 * 4096 + CoalescingStream.Capacity + 1, inner.Sends.Sum(s => s.Length));
    }

    [Fact]
    public void TimeoutsAreTheConnections()
    {
        var inner = new RecordingStream();
        using var stream = new CoalescingStream(inner) { ReadTimeout = 1234, WriteTimeout = 5678 };

        Assert.True(stream.CanTimeout);
        Assert.Equal(1234, inner.ReadTimeout);
        Assert.Equal(5678, inner.WriteTimeout);
    }

    /// <summary>A timeout of 0 is none, as for sockets: a deadline of 0 ms cancelled reads at random (a CI failure).</summary>
    [Theory]
    [InlineData(0, false)]
    [InlineData(60_000, true)]
    public async Task AReadHasADeadline_OnlyForAPositiveTimeout(int timeout, bool deadline)
    {
        var inner = new RecordingStream { Incoming = Encoding.ASCII.GetBytes("220 ready\r\n"), ReadTimeout = timeout };
        using var stream = new CoalescingStream(inner);

        Assert.Equal(11, await stream.ReadAsync(new byte[64]));

        Assert.Equal(deadline, Assert.Single(inner.ReadTokens).CanBeCanceled);
    }

    private static byte[] Block(char fill, int length) => Enumerable.Repeat((byte)fill, length).ToArray();

    private sealed class RecordingStream : Stream
    {
        public List<byte[]> Sends { get; } = [];
        public int Flushes { get; private set; }
        public byte[] Incoming { get; init; } = [];
        public bool SentBeforeFirstRead { get; private set; }
        public List<CancellationToken> ReadTokens { get; } = [];
        private int _readOffset;
        private bool _read;

        public override bool CanRead => true;
        public override bool CanWrite => true;
        public override bool CanSeek => false;
        public override bool CanTimeout => true;
        public override int ReadTimeout { get; set; }
        public override int WriteTimeout { get; set; }

        public override void Write(byte[] buffer, int offset, int count) => Sends.Add(buffer.AsSpan(offset, count).ToArray());
        public override void Write(ReadOnlySpan<byte> buffer) => Sends.Add(buffer.ToArray());

        public override ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Sends.Add(buffer.ToArray());
            return ValueTask.CompletedTask;
        }

        public override void Flush() => Flushes++;

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            ReadTokens.Add(cancellationToken);
            return ValueTask.FromResult(Read(buffer.Span));
        }

        public override int Read(byte[] buffer, int offset, int count)
        {
            if (!_read) SentBeforeFirstRead = Sends.Count > 0;
            _read = true;
            var n = Math.Min(count, Incoming.Length - _readOffset);
            Incoming.AsSpan(_readOffset, n).CopyTo(buffer.AsSpan(offset));
            _readOffset += n;
            return n;
        }

        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
