using System.Buffers;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Smime;

/// <summary>
/// Makes an entity safe to sign without changing what the reader sees. Lines with trailing
/// white space (format=flowed soft breaks, the "-- " signature separator) and lines starting
/// with "From " are damaged by some relays, so such parts travel quoted-printable, which
/// protects them; then everything is made 7-bit (RFC 8551 §3.1.2), by the rules of MimeKit's
/// <see cref="MimeEntity.Prepare"/>. Stripping the white space instead, as PGP/MIME tooling does,
/// would sign text the sender did not write.
/// </summary>
/// <remarks>
/// Each text part is read once, for both questions: MimeKit's own preparation reads it again,
/// a byte at a time, to find the best encoding (7 % of the CPU of signing and encrypting a 1 MB
/// message). A multipart/signed inside the entity is left as it is: its parts are signed already.
/// </remarks>
internal static class SigningPreparation
{
    /// <summary>MimeKit's default and RFC 5322's recommended limit: longer lines go quoted-printable.</summary>
    private const int MaxLineLength = 78;

    public static void Prepare(MimeEntity entity)
    {
        switch (entity)
        {
            case MultipartSigned:
                return; // re-encoding its parts would break the signature they carry
            case Multipart multipart:
                foreach (var child in multipart) Prepare(child);
                return;
            case MimePart part:
                PreparePart(part);
                return;
            default:
                // message/rfc822 parts are signed as they are; MimeKit makes their own parts 7-bit.
                entity.Prepare(EncodingConstraint.SevenBit, MaxLineLength);
                return;
        }
    }

    private static void PreparePart(MimePart part)
    {
        var declared = part.ContentTransferEncoding;
        if (declared is ContentEncoding.QuotedPrintable or ContentEncoding.Base64 or ContentEncoding.UUEncode) return;
        // Non-text parts go base64 without being read, as MimeKit does it.
        if (part.Content is null || !IsText(part))
        {
            part.Prepare(EncodingConstraint.SevenBit, MaxLineLength);
            return;
        }
        var best = BestEncoding(Read(part.Content));
        if (declared == ContentEncoding.Default && best == ContentEncoding.SevenBit) return;
        part.ContentTransferEncoding = best;
    }

    private static bool IsText(MimePart part) =>
        part.ContentType.IsMimeType("text", "*") || part.ContentType.IsMimeType("message", "*");

    /// <summary>MimeKit's choice under a 7-bit constraint (BestEncodingFilter), with protection first.</summary>
    internal static ContentEncoding BestEncoding(ContentFacts facts)
    {
        if (facts.NeedsProtection) return ContentEncoding.QuotedPrintable;
        if (facts.NulBytes > 0) return ContentEncoding.Base64;
        if (facts.EightBitBytes > 0)
            return facts.EightBitBytes >= (int)(facts.Length * (17.0 / 100.0)) ? ContentEncoding.Base64 : ContentEncoding.QuotedPrintable;
        return facts.LongestLine > MaxLineLength ? ContentEncoding.QuotedPrintable : ContentEncoding.SevenBit;
    }

    /// <summary>
    /// Reads the decoded content as a stream, so a 50 MB attachment is never held in memory.
    /// Stops at the first line that needs protection: the part goes quoted-printable whatever the rest holds.
    /// </summary>
    internal static ContentFacts Read(IMimeContent content)
    {
        using var decoded = content.Open();
        var buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
        var used = 0;
        try
        {
            var line = new LineState();
            var counts = new ByteCounts();
            int read;
            while ((read = decoded.Read(buffer, 0, buffer.Length)) > 0)
            {
                used = Math.Max(used, read);
                var bytes = buffer.AsSpan(0, read);
                if (line.Add(bytes)) return ContentFacts.Protected;
                counts.Add(bytes);
            }
            if (line.EndsBadly() || line.EndsInCarriageReturn()) return ContentFacts.Protected;
            return new ContentFacts(false, counts.Nul, counts.EightBit, counts.Total, Math.Max(line.Longest, line.Current));
        }
        finally
        {
            buffer.AsSpan(0, used).Clear(); // it held decoded mail (MimeKit's decoders hand it 4 KiB a read)
            ArrayPool<byte>.Shared.Return(buffer);
        }
    }

    /// <summary>What decides a text part's transfer encoding; the counts are only read when it needs no protection.</summary>
    internal readonly record struct ContentFacts(bool NeedsProtection, long NulBytes, long EightBitBytes, long Length, long LongestLine)
    {
        public static ContentFacts Protected { get; } = new(true, 0, 0, 0, 0);
    }

    /// <summary>NUL and 8-bit bytes, counted a vector at a time; pure ASCII costs one vectorised search.</summary>
    private struct ByteCounts
    {
        public long Nul, EightBit, Total;

        public void Add(ReadOnlySpan<byte> bytes)
        {
            Total += bytes.Length;
            var first = bytes.IndexOfAnyExceptInRange((byte)1, (byte)127);
            if (first < 0) return;
            bytes = bytes[first..];
            Nul += bytes.Count((byte)0);
            EightBit += CountHighBytes(bytes);
        }

        private static int CountHighBytes(ReadOnlySpan<byte> bytes)
        {
            var count = 0;
            var i = 0;
            if (Vector128.IsHardwareAccelerated)
            {
                ref var start = ref MemoryMarshal.GetReference(bytes);
                for (; i <= bytes.Length - Vector128<byte>.Count; i += Vector128<byte>.Count)
                    count += BitOperations.PopCount(Vector128.LoadUnsafe(ref start, (nuint)i).ExtractMostSignificantBits());
            }
            for (; i < bytes.Length; i++)
                if (bytes[i] >= 0x80) count++;
            return count;
        }
    }

    /// <summary>
    /// One line at a time: does it start with "From ", end (before its CR LF) in white space, or
    /// hold a CR that is not part of its line end? A bare CR is not allowed in 7bit or 8bit text
    /// (RFC 2045 §2.7), and OpenSSL's verification, which splits lines on it, then fails.
    /// Also keeps the longest line, without its CR LF. Looks only at the start and the end of each
    /// line, found with a vectorised search: a byte at a time, this scan cost as much as the rest of
    /// the preparation.
    /// </summary>
    private struct LineState
    {
        private static ReadOnlySpan<byte> From => "From "u8;
        private long _length;
        private int _fromMatched;
        private byte _last, _beforeLast;

        /// <summary>The longest line ended so far, without its line end.</summary>
        public long Longest { get; private set; }

        /// <summary>The length of the line not ended yet.</summary>
        public readonly long Current => _length;

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
                // A CR here is the line end's: any other would have been found bare.
                Longest = Math.Max(Longest, _last == (byte)'\r' ? _length - 1 : _length);
                (_length, _fromMatched, _last, _beforeLast) = (0, 0, 0, 0);
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
            // Only while every byte of the line so far matched: a line is checked once, at its start.
            if (_fromMatched == _length && _length < From.Length)
            {
                var rest = From[(int)_length..];
                var compared = Math.Min(rest.Length, segment.Length);
                if (segment[..compared].SequenceEqual(rest[..compared]) && (_fromMatched += compared) == From.Length) return true;
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
