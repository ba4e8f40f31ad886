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
/// 20+H+C  8 bytes: its tag (<see cref="JournalRecordTag"/>), keyed with the segment's key
/// </code>
/// The checksum is what tells a record that was written whole from the tail of a segment a crash
/// cut short or left with stale blocks: records that were acknowledged are always a prefix of the
/// segment (each 250 waits for an fdatasync that began after its record was written), so reading
/// stops at the first record that does not check. The tag makes it a record this gateway wrote,
/// not one a client built inside its message. Segments from before keys have records without a
/// tag (<see cref="LegacyTrailerLength"/>): they are read, never written.
/// </summary>
internal static class JournalRecord
{
    public const byte Accepted = (byte)'A';
    public const byte Done = (byte)'D';
    public const int PrefixLength = 16;
    public const int TrailerLength = sizeof(uint) + JournalRecordTag.Length;
    public const int LegacyTrailerLength = sizeof(uint);

    /// <summary>No envelope is this large; a length beyond it is a torn or stale record.</summary>
    public const int MaximumHeaderLength = 1024 * 1024;

    /// <summary>
    /// Beyond any message the journal takes: a message of bare LFs doubles when they become CRLF,
    /// and our Received line comes on top. <see cref="AcceptJournal"/> never writes a longer one.
    /// </summary>
    public const long MaximumContentLength = 4 * AcceptJournal.MaximumMessageSize;

    /// <summary>The prefix and header, and the trailer, to write around <paramref name="content"/> in the segment of <paramref name="tag"/>.</summary>
    public static (byte[] Head, byte[] Trailer) Frame(byte kind, ReadOnlySpan<byte> header, ReadOnlySpan<byte> content, JournalRecordTag tag)
    {
        var (head, checksum) = Begin(kind, header, content);
        return (head, Trailer(head, checksum, tag));
    }

    /// <summary>
    /// The prefix and header, and the checksum of the record so far: the part that takes time (a
    /// message's bytes), done before the segment, and so its key, is chosen under the journal's lock.
    /// </summary>
    public static (byte[] Head, Crc32 Checksum) Begin(byte kind, ReadOnlySpan<byte> header, ReadOnlySpan<byte> content)
    {
        var head = new byte[PrefixLength + header.Length];
        head[0] = (byte)'G';
        head[1] = (byte)'J';
        head[2] = (byte)'1';
        head[3] = kind;
        BinaryPrimitives.WriteInt32LittleEndian(head.AsSpan(4), header.Length);
        BinaryPrimitives.WriteInt64LittleEndian(head.AsSpan(8), content.Length);
        header.CopyTo(head.AsSpan(PrefixLength));
        var checksum = new Crc32();
        checksum.Append(head);
        checksum.Append(content);
        return (head, checksum);
    }

    /// <summary>
    /// The trailer of a record begun by <see cref="Begin"/>, for the segment of <paramref name="tag"/>.
    /// Records without a tag are those of segments from before keys: never written again.
    /// </summary>
    public static byte[] Trailer(ReadOnlySpan<byte> head, Crc32 checksum, JournalRecordTag tag)
    {
        var trailer = new byte[TrailerLength];
        var crc = checksum.GetCurrentHashAsUInt32();
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, crc);
        tag.Compute(head, crc, trailer.AsSpan(sizeof(uint)));
        return trailer;
    }

    /// <param name="Length">The whole record's, trailer included.</param>
    public sealed record Entry(byte Kind, byte[] Header, byte[] Content, long Offset, int Length);

    /// <summary>The records of a segment up to the first one that is incomplete or does not check.</summary>
    /// <param name="keyed">The segment begins with a key (<see cref="JournalSegmentFile.IsKeyed"/>).</param>
    /// <param name="complete">Set to false when reading stopped before the end of the segment.</param>
    public static List<Entry> ReadAll(Stream segment, bool keyed, out bool complete) => ReadAll(segment, keyed, out complete, out _);

    /// <summary>
    /// The records of a segment. Reading stops at the first record that is cut short or does not
    /// check, unless whole records follow it: a crash only ever cuts the tail (after it the segment
    /// is zeros or the rest of that one record), so records after a bad one mean the segment was
    /// damaged in the middle (a bad sector, a flipped bit); they are read too, and
    /// <paramref name="keptBecause"/> says why the segment must be kept (for the admin's log). In
    /// a keyed segment they are looked for from the bad record's next byte; in one from before keys, after the end the bad record's prefix declares,
    /// when it has one a record could have: inside it are a message's bytes.
    /// </summary>
    public static List<Entry> ReadAll(Stream segment, bool keyed, out bool complete, out string? keptBecause)
    {
        var data = new byte[segment.Length - segment.Position];
        segment.ReadExactly(data);
        try
        {
            var entries = new List<Entry>();
            complete = true;
            keptBecause = null;
            if (!JournalSegmentHeader.TryRead(data, keyed, out var key, out var offset))
            {
                // Without the key no record can be told from a client's bytes: none is read, the segment is kept.
                complete = false;
                keptBecause = "its first bytes are not a segment header of its kind, so no record could be told from a client's bytes";
                return entries;
            }
            // No key: a segment from before keys, whose records carry no tag.
            using var tag = key.Length > 0 ? new JournalRecordTag(key) : null;
            // Every candidate the search tries costs the bytes its prefix claims; a message full of
            // prefixes claiming a mebibyte each would otherwise hold the start for hours.
            var budget = SearchBudgetPerByte * (long)data.Length;
            while (offset < data.Length)
            {
                if (TryParse(data, offset, tag) is { } entry)
                {
                    entries.Add(entry);
                    offset += entry.Length;
                    continue;
                }
                // The zeros a segment is made of before records fill it (see AcceptJournal) are its end.
                if (data.AsSpan(offset).IndexOfAnyExcept((byte)0) < 0) return entries;
                int next;
                if (tag is not null)
                {
                    // No record a client builds inside its message checks without the key: what checks
                    // after a bad record is one this gateway wrote, also where a damaged length field
                    // says the bad one still goes on.
                    next = NextRecord(data, offset + 1, tag, ref budget);
                }
                else
                {
                    // Without a key the bytes a record declares are its own: a client's message, which
                    // may hold anything, a whole record (and its CRC-32) with an envelope of its choosing too.
                    var declaredEnd = DeclaredEnd(data, offset);
                    next = NextRecord(data, declaredEnd ?? offset + 1, tag, ref budget);
                    // What looks like records inside it may be real ones behind a damaged length
                    // field: not read, but the segment is kept for the admin.
                    if (next == NotFound && declaredEnd is not null && NextRecord(data, offset + 1, tag, ref budget) is var inside && (inside == GaveUp || inside >= 0 && inside < declaredEnd))
                        keptBecause = "what looks like records lies inside one that does not check (a damaged length field, or a client's bytes)";
                }
                if (next == GaveUp)
                {
                    // Not known to be a torn tail: the segment is kept for the admin.
                    complete = false;
                    keptBecause = "the search for a record after one that does not check ran out of its budget (a message full of record prefixes?) before it could tell damage from a crash's cut";
                    return entries;
                }
                if (next < 0)
                {
                    complete = false; // a torn tail: the record a crash cut, never acknowledged
                    return entries;
                }
                keptBecause = "whole records follow one that does not check (damage, not a crash's cut)";
                offset = next;
            }
            return entries;
        }
        finally
        {
            Array.Clear(data); // plaintext mail
        }
    }

    /// <summary>Where the record at <paramref name="offset"/> of a segment from before keys ends by its prefix, when the prefix is one a record could have; never before the data's end.</summary>
    private static int? DeclaredEnd(byte[] data, int offset)
    {
        var rest = data.AsSpan(offset);
        if (!HasPrefix(rest, out var headerLength, out var contentLength)) return null;
        return (int)Math.Min(data.Length, offset + PrefixLength + headerLength + contentLength + LegacyTrailerLength);
    }

    /// <summary>No key: a segment from before keys, whose records end with their CRC-32 alone.</summary>
    private static int TrailerLengthFor(JournalRecordTag? tag) => tag is not null ? TrailerLength : LegacyTrailerLength;

    /// <summary>The magic, a kind, and lengths no larger than the journal ever writes.</summary>
    private static bool HasPrefix(ReadOnlySpan<byte> rest, out int headerLength, out long contentLength)
    {
        headerLength = 0;
        contentLength = 0;
        if (rest.Length < PrefixLength || rest[0] != 'G' || rest[1] != 'J' || rest[2] != '1' || rest[3] is not (Accepted or Done)) return false;
        headerLength = BinaryPrimitives.ReadInt32LittleEndian(rest[4..]);
        contentLength = BinaryPrimitives.ReadInt64LittleEndian(rest[8..]);
        return headerLength is > 0 and <= MaximumHeaderLength && contentLength is >= 0 and <= MaximumContentLength;
    }

    private const int NotFound = -1, GaveUp = -2;

    /// <summary>Bytes the search after a bad record may check, per byte of the segment: a few passes over it.</summary>
    private const int SearchBudgetPerByte = 8;

    /// <returns>The offset of the next record that checks, <see cref="NotFound"/>, or <see cref="GaveUp"/> when the candidates cost more than <paramref name="budget"/>.</returns>
    private static int NextRecord(byte[] data, int from, JournalRecordTag? tag, ref long budget)
    {
        if (from >= data.Length) return NotFound;
        for (var at = data.AsSpan(from).IndexOf("GJ1"u8); at >= 0; )
        {
            var offset = from + at;
            if (HasPrefix(data.AsSpan(offset), out var headerLength, out var contentLength)
                && PrefixLength + headerLength + contentLength + TrailerLengthFor(tag) <= data.Length - offset)
            {
                // What TryParse hashes: the prefix and header for the tag, the whole record without a key.
                budget -= PrefixLength + headerLength + (tag is not null ? 0 : Math.Min(contentLength, data.Length));
                if (budget < 0) return GaveUp;
                if (TryParse(data, offset, tag) is not null) return offset;
            }
            from = offset + 1;
            at = data.AsSpan(from).IndexOf("GJ1"u8);
        }
        return NotFound;
    }

    private static Entry? TryParse(byte[] data, int offset, JournalRecordTag? tag)
    {
        var rest = data.AsSpan(offset);
        var trailerLength = TrailerLengthFor(tag);
        if (!HasPrefix(rest, out var headerLength, out var contentLength) || PrefixLength + headerLength + contentLength + trailerLength > rest.Length) return null;
        var head = PrefixLength + headerLength;
        var body = head + (int)contentLength;
        var crc = BinaryPrimitives.ReadUInt32LittleEndian(rest[body..]);
        // The tag before the CRC-32: a record a client built inside its message fails having cost its header, not its content too.
        if (tag is not null && !tag.Checks(rest[..head], crc, rest.Slice(body + sizeof(uint), JournalRecordTag.Length))) return null;
        if (Crc32.HashToUInt32(rest[..body]) != crc) return null;
        return new Entry(rest[3], rest[PrefixLength..head].ToArray(), rest[head..body].ToArray(), offset, body + trailerLength);
    }
}
