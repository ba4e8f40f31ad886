using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;

namespace Gateway.Spool;

/// <summary>
/// The first bytes of an accept-journal segment, written and synced before its first record:
/// <code>
///  0  "GJS1"
///  4  16 random bytes: the segment's key
/// 20  uint32 CRC-32 of the 20 bytes before it
/// </code>
/// Every record ends with a tag computed with the key (<see cref="JournalRecordTag"/>). A client
/// chooses its message's bytes and can compute a CRC-32, so its message can hold a whole record;
/// when recovery has to search a damaged segment, such a record must not check, and without the
/// key, which never leaves the spool, it does not.
/// <para>
/// Segments written before keys (by an earlier version, left by a crash) begin with a record or
/// with zeros, and their records are checked without a key. They have another name
/// (<see cref="JournalSegmentFile"/>): an earlier version would find no record in a keyed segment,
/// and delete it.
/// </para>
/// </summary>
internal static class JournalSegmentHeader
{
    public const int Length = 24;
    private const int KeyLength = 16;
    private static ReadOnlySpan<byte> Magic => "GJS1"u8;

    public static byte[] New()
    {
        var header = new byte[Length];
        Magic.CopyTo(header);
        RandomNumberGenerator.Fill(header.AsSpan(Magic.Length, KeyLength));
        BinaryPrimitives.WriteUInt32LittleEndian(header.AsSpan(Length - 4), Crc32.HashToUInt32(header.AsSpan(0, Length - 4)));
        return header;
    }

    /// <summary>The key of a header made by <see cref="New"/>.</summary>
    public static byte[] KeyOf(byte[] header) => header[Magic.Length..(Magic.Length + KeyLength)];

    /// <summary>Where a segment's records begin and the key they are checked with (none in a segment from before keys).</summary>
    /// <param name="keyed">The segment's name says it begins with a key (<see cref="JournalSegmentFile.IsKeyed"/>).</param>
    /// <returns>False when the segment's first bytes are not what its name says they are: damage.</returns>
    public static bool TryRead(ReadOnlySpan<byte> segment, bool keyed, out byte[] key, out int recordsStart)
    {
        key = [];
        recordsStart = 0;
        if (!keyed)
        {
            // A key under this name comes from no released version (only from builds between keys and
            // their own name): the segment is kept, not guessed at.
            var start = segment[..Math.Min(segment.Length, 3)];
            return start.SequenceEqual("GJ1"u8) || start.IndexOfAnyExcept((byte)0) < 0;
        }
        if (!segment.StartsWith(Magic))
        {
            // A segment whose header never reached the disk (a crash while it was made) was never
            // handed out: it has no records, and nothing else.
            recordsStart = segment.Length;
            return segment.IndexOfAnyExcept((byte)0) < 0;
        }
        if (segment.Length < Length || Crc32.HashToUInt32(segment[..(Length - 4)]) != BinaryPrimitives.ReadUInt32LittleEndian(segment[(Length - 4)..])) return false;
        key = segment.Slice(Magic.Length, KeyLength).ToArray();
        recordsStart = Length;
        return true;
    }
}
