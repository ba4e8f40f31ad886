using System.Buffers;
using MimeKit;

namespace Gateway.Smime;

/// <summary>
/// Makes an entity safe to sign without changing what the reader sees. Lines with trailing
/// white space (format=flowed soft breaks, the "-- " signature separator) and lines starting
/// with "From " are damaged by some relays, so such parts travel quoted-printable, which
/// protects them; then everything is made 7-bit (RFC 8551 §3.1.2). Stripping the white space
/// instead, as PGP/MIME tooling does, would sign text the sender did not write.
/// </summary>
internal static class SigningPreparation
{
    public static void Prepare(MimeEntity entity)
    {
        foreach (var part in Leaves(entity))
        {
            if (part.ContentTransferEncoding is ContentEncoding.Default or ContentEncoding.SevenBit or ContentEncoding.EightBit
                && part.Content is not null && NeedsProtection(part.Content))
                part.ContentTransferEncoding = ContentEncoding.QuotedPrintable;
        }
        entity.Prepare(EncodingConstraint.SevenBit, 78);
    }

    private static IEnumerable<MimePart> Leaves(MimeEntity entity) => entity switch
    {
        MimePart part => [part],
        Multipart multipart => multipart.SelectMany(Leaves),
        _ => [], // message/rfc822 parts are signed as they are
    };

    /// <summary>Reads the decoded content as a stream, so a 50 MB attachment is never held in memory.</summary>
    internal static bool NeedsProtection(IMimeContent content)
    {
        using var decoded = content.Open();
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        try
        {
            var line = new LineState();
            int read;
            while ((read = decoded.Read(buffer, 0, buffer.Length)) > 0)
            {
                if (line.Add(buffer.AsSpan(0, read))) return true;
            }
            return line.EndsBadly() || line.EndsInCarriageReturn();
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer, clearArray: true); // it held decoded mail
        }
    }

    /// <summary>
    /// One line at a time: does it start with "From ", end (before its CR LF) in white space, or
    /// hold a CR that is not part of its line end? A bare CR is not allowed in 7bit or 8bit text
    /// (RFC 2045 §2.7), and OpenSSL's verification, which splits lines on it, then fails.
    /// Looks only at the start and the end of each line, found with a vectorised search: a byte
    /// at a time, this scan cost as much as the rest of the preparation.
    /// </summary>
    private struct LineState
    {
        private static ReadOnlySpan<byte> From => "From "u8;
        private long _length;
        private int _fromMatched;
        private byte _last, _beforeLast;

        /// <returns>True when a line so far already needs protection.</returns>
        public bool Add(ReadOnlySpan<byte> bytes)
        {
            while (true)
            {
                var end = bytes.IndexOf((byte)'\n');
                var segment = end < 0 ? bytes : bytes[..end];
                if (AddToLine(segment)) return true;
                if (end < 0) return false;
                if (EndsBadly()) return true;
                this = default;
                bytes = bytes[(end + 1)..];
            }
        }

        /// <summary>Bytes of the current line, without a line feed.</summary>
        private bool AddToLine(ReadOnlySpan<byte> segment)
        {
            if (segment.IsEmpty) return false;
            // A CR before more of the line (in this read or the one before) is a bare one.
            if (_length > 0 && _last == (byte)'\r') return true;
            var carriageReturn = segment.IndexOf((byte)'\r');
            if (carriageReturn >= 0 && carriageReturn < segment.Length - 1) return true;
            for (var i = 0; i < segment.Length && _length + i < From.Length; i++)
            {
                if (_fromMatched != _length + i || segment[i] != From[(int)_length + i]) break;
                if (++_fromMatched == From.Length) return true;
            }
            _length += segment.Length;
            _beforeLast = segment.Length >= 2 ? segment[^2] : _last;
            _last = segment[^1];
            return false;
        }

        /// <summary>At the end of the content: a last line ending in CR without its LF.</summary>
        public readonly bool EndsInCarriageReturn() => _length > 0 && _last == (byte)'\r';

        /// <summary>Trailing white space, a CR before the line end not counted.</summary>
        public readonly bool EndsBadly()
        {
            var (length, last) = _last == (byte)'\r' ? (_length - 1, _beforeLast) : (_length, _last);
            return length > 0 && last is (byte)' ' or (byte)'\t';
        }
    }
}
