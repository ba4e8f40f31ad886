namespace Gateway.Smime;

/// <summary>
/// Writes through to another stream with every bare LF made CR LF, as MimeKit's Unix2DosFilter
/// does, but a line at a time (a vectorised search for the LF) instead of a byte at a time: the
/// canonical form is mostly CR LF already, and the filter's byte loop was a tenth of the CPU of
/// signing a small message. Leaves the inner stream open.
/// </summary>
internal sealed class CrlfStream(Stream inner) : Stream
{
    private static ReadOnlySpan<byte> CrLf => "\r\n"u8;
    private byte _last;

    public override bool CanRead => false;
    public override bool CanSeek => false;
    public override bool CanWrite => true;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        while (!buffer.IsEmpty)
        {
            var lf = buffer.IndexOf((byte)'\n');
            if (lf < 0)
            {
                inner.Write(buffer);
                _last = buffer[^1];
                return;
            }
            var before = lf > 0 ? buffer[lf - 1] : _last;
            if (before == (byte)'\r')
            {
                inner.Write(buffer[..(lf + 1)]);
            }
            else
            {
                inner.Write(buffer[..lf]);
                inner.Write(CrLf);
            }
            _last = (byte)'\n';
            buffer = buffer[(lf + 1)..];
        }
    }

    public override void WriteByte(byte value) => Write([value]);

    public override void Flush() => inner.Flush();

    public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
    public override void SetLength(long value) => throw new NotSupportedException();
}
