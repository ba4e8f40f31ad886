using System.Buffers.Binary;
using System.IO.Hashing;

namespace Gateway.Spool;

/// <summary>
/// One record of an accept-journal segment (<see cref="AcceptJournal"/>), little-endian:
/// <code>
///  0  "GJ1" and the kind: 'A' accepted, 'D' done (delivered, held, refused or moved to incoming/)
///  4  int32   header length H: the envelope as JSON ('A'), the spool id in ASCII ('D')
///  8  int64   content length C: the message as spooled ('A'), 0 ('D')
/// 16  header, then content
/// 16+H+C  uint32 CRC-32 of everything before it in the record
/// </code>
/// The checksum is what tells a record that was written whole from the tail of a segment a crash
/// cut short or left with stale blocks: records that were acknowledged are always a prefix of the
/// segment (each 250 waits for an fdatasync that began after its record was written), so reading
/// stops at the first record that does not check.
/// </summary>
internal static class JournalRecord
{
    public const byte Accepted = (byte)'A';
    public const byte Done = (byte)'D';
    public const int PrefixLength = 16;
    public const int TrailerLength = 4;

    /// <summary>No envelope is this large; a length beyond it is a torn or stale record.</summary>
    public const int MaximumHeaderLength = 1024 * 1024;

    /// <summary>
    /// Beyond any message the journal takes: a message of bare LFs doubles when they become CRLF,
    /// and our Received line comes on top. <see cref="AcceptJournal"/> never writes a longer one.
    /// </summary>
    public const long MaximumContentLength = 4 * AcceptJournal.MaximumMessageSize;

    /// <summary>The prefix and header, and the trailer, to write around <paramref name="content"/>.</summary>
    public static (byte[] Head, byte[] Trailer) Frame(byte kind, ReadOnlySpan<byte> header, ReadOnlySpan<byte> content)
    {
        var head = new byte[PrefixLength + header.Length];
        head[0] = (byte)'G';
        head[1] = (byte)'J';
        head[2] = (byte)'1';
        head[3] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(4), header.Length);
        BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(8), content.Length);
        header.CopyTo(head.AsSpan(PrefixLength));
        var crc = new Crc32();
        crc.Append(head);
        crc.Append(content);
        var trailer = new byte[TrailerLength];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc.GetCurrentHashAsUInt32());
        return (head, trailer);
    }

    public sealed record Entry(byte Kind, byte[] Header, byte[] Content, long Offset);

    /// <summary>The records of a segment up to the first one that is incomplete or does not check.</summary>
    /// <param name="complete">Set to false when reading stopped before the end of the segment.</param>
    public static List<Entry> ReadAll(Stream segment, out bool complete)
    {
        var entries = new List<Entry>();
        var prefix = new byte[PrefixLength];
        var trailer = new byte[TrailerLength];
        complete = false;
        while (true)
        {
            var offset = segment.Position;
            var read = segment.ReadAtLeast(prefix, PrefixLength, throwOnEndOfStream: false);
            // The zeros a segment is made of before records fill it (see AcceptJournal) are its end.
            if (read == 0 || (read == PrefixLength && prefix.AsSpan().IndexOfAnyExcept((byte)0) < 0))
            {
                complete = true;
                return entries;
            }
            if (read < PrefixLength || prefix[0] != 'G' || prefix[1] != 'J' || prefix[2] != '1' || prefix[3] is not (Accepted or Done)) return entries;
            var headerLength = BinaryPrimitives.ReadInt32LittleEndian(prefix.AsSpan(4));
            var contentLength = BinaryPrimitives.ReadInt64LittleEndian(prefix.AsSpan(8));
            if (headerLength is <= 0 or > MaximumHeaderLength || contentLength < 0 || contentLength > MaximumContentLength
                || offset + PrefixLength + headerLength + contentLength + TrailerLength > segment.Length)
                return entries;
            var header = new byte[headerLength];
            var content = new byte[contentLength];
            segment.ReadExactly(header);
            segment.ReadExactly(content);
            segment.ReadExactly(trailer);
            var crc = new Crc32();
            crc.Append(prefix);
            crc.Append(header);
            crc.Append(content);
            if (crc.GetCurrentHashAsUInt32() != BinaryPrimitives.ReadUInt32LittleEndian(trailer)) return entries;
            entries.Add(new Entry(prefix[3], header, content, offset));
        }
    }
}
