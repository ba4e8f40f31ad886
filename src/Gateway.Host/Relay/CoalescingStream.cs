using System.Buffers;

namespace Gateway.Relay;

/// <summary>
/// The upstream connection's stream under <see cref="UpstreamSession"/>: writes wait until the
/// session flushes, reads, or <see cref="Capacity"/> bytes are waiting, and then go out in one
/// send. A batch of pipelined commands, or a copy with its BDAT, is many small writes (and under
/// TLS many records), each otherwise its own send, and with TCP_NODELAY its own segment and its
/// own wake-up of the upstream. Every read first sends what waits, so nothing that expects an
/// answer (a command, a TLS handshake message) is ever held back, whether or not the writer flushed.
/// <para>
/// One operation at a time, as the session (and the SslStream it puts on top for STARTTLS) uses
/// its stream. Asynchronous reads and writes end after ReadTimeout/WriteTimeout (Relay:Timeout)
/// with an IOException: .NET's NetworkStream applies them only to synchronous calls.
/// </para>
/// </summary>
internal sealed class CoalescingStream(Stream inner) : Stream
{
    public const int Capacity = 64 * 1024;

    private byte[]? _pending;
    private int _length;

    public override bool CanRead => true;
    public override bool CanWrite => true;
    public override bool CanSeek => false;
    public override bool CanTimeout => inner.CanTimeout;

    public override int ReadTimeout
    {
        get => inner.ReadTimeout;
        set => inner.ReadTimeout = value;
    }

    public override int WriteTimeout
    {
        get => inner.WriteTimeout;
        set => inner.WriteTimeout = value;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        if (_length + buffer.Length > Capacity) SendPending();
        if (buffer.Length >= Capacity)
        {
            inner.Write(buffer);
            return;
        }
        Append(buffer);
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_length + buffer.Length > Capacity) await SendPendingAsync(cancellationToken);
        if (buffer.Length >= Capacity)
        {
            await WriteWithinTimeoutAsync(buffer, cancellationToken);
            return;
        }
        Append(buffer.Span);
    }

    public override void Flush()
    {
        SendPending();
        inner.Flush();
    }

    public override async Task FlushAsync(CancellationToken cancellationToken)
    {
        await SendPendingAsync(cancellationToken);
        await inner.FlushAsync(cancellationToken);
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        SendPending();
        return inner.Read(buffer);
    }

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        await SendPendingAsync(cancellationToken);
        using var deadline = Deadline(ReadTimeout, cancellationToken);
        try
        {
            return await inner.ReadAsync(buffer, deadline?.Token ?? cancellationToken);
        }
        catch (OperationCanceledException e) when (deadline is not null && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut($"the upstream did not answer within {ReadTimeout} ms", e);
        }
    }

    private async ValueTask WriteWithinTimeoutAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken)
    {
        using var deadline = Deadline(WriteTimeout, cancellationToken);
        try
        {
            await inner.WriteAsync(buffer, deadline?.Token ?? cancellationToken);
        }
        catch (OperationCanceledException e) when (deadline is not null && !cancellationToken.IsCancellationRequested)
        {
            throw TimedOut($"the upstream took no data for {WriteTimeout} ms", e);
        }
    }

    /// <summary>The caller's token, cancelled also after <paramref name="timeout"/> ms; null when there is none (0 and Infinite, as for sockets).</summary>
    private CancellationTokenSource? Deadline(int timeout, CancellationToken cancellationToken)
    {
        if (!inner.CanTimeout || timeout <= 0) return null;
        var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        return deadline;
    }

    /// <summary>An IOException, which the relay treats as a temporary failure of this connection (451 4.4.1).</summary>
    private static IOException TimedOut(string message, Exception cause) => new(message, new TimeoutException(message, cause));

    private void Append(ReadOnlySpan<byte> buffer)
    {
        _pending ??= ArrayPool<byte>.Shared.Rent(Capacity);
        buffer.CopyTo(_pending.AsSpan(_length));
        _length += buffer.Length;
    }

    private void SendPending()
    {
        if (_length == 0) return;
        var length = _length;
        _length = 0; // a failed send leaves the connection unusable; nothing is sent twice
        inner.Write(_pending!, 0, length);
    }

    private async ValueTask SendPendingAsync(CancellationToken cancellationToken)
    {
        if (_length == 0) return;
        var length = _length;
        _length = 0;
        await WriteWithinTimeoutAsync(_pending.AsMemory(0, length), cancellationToken);
    }

    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            // Whatever still waits was never flushed or followed by a read: nobody waits for it.
            inner.Dispose();
            // Two can run at once (the pool's Dispose at the stop, and the QUIT it cut short): the
            // buffer goes back to the pool once, or two connections would later share it.
            if (Interlocked.Exchange(ref _pending, null) is { } pending) ArrayPool<byte>.Shared.Return(pending, clearArray: true); // it held mail, and AUTH
            _length = 0;
        }
        base.Dispose(disposing);
    }
}
