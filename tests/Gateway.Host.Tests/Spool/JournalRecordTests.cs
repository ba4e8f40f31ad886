using System.Text;
using Gateway.Spool;

namespace Gateway.Tests.Spool;

/// <summary>
/// Records of a keyed segment as recovery reads them: read back as written, and one a client
/// builds inside its message never checks, whatever it knows of the check.
/// </summary>
public sealed class JournalRecordTests
{
    private readonly byte[] _segmentHeader = JournalSegmentHeader.New();

    private byte[] Key => JournalSegmentHeader.KeyOf(_segmentHeader);

    private static byte[] Framed(string header, string content, byte[] key)
    {
        // Latin-1: a byte per char, so a message can carry a record's binary lengths and checksum.
        using var tag = new JournalRecordTag(key);
        var (head, trailer) = JournalRecord.Frame(JournalRecord.Accepted, Encoding.Latin1.GetBytes(header), Encoding.Latin1.GetBytes(content), tag);
        return [.. head, .. Encoding.Latin1.GetBytes(content), .. trailer];
    }

    /// <summary>A keyed segment of these records, then the zeros a segment is made of.</summary>
    private byte[] Segment(params byte[][] records) => [.. _segmentHeader, .. records.SelectMany(r => r), .. new byte[4096]];

    private static List<JournalRecord.Entry> Read(byte[] segment)
    {
        using var stream = new MemoryStream(segment);
        return JournalRecord.ReadAll(stream, keyed: true, out _, out _);
    }

    [Fact]
    public void KeyedRecord_ReadsBackAsWritten_AndAnyBitOfItsTagChangedFailsIt()
    {
        const string header = "{\"id\":\"20261128000000AAAAAAAA\"}";
        const string content = "Subject: hello\r\n\r\nhi\r\n";
        var record = Framed(header, content, Key);

        var entry = Assert.Single(Read(Segment(record)));
        Assert.Equal(header, Encoding.ASCII.GetString(entry.Header));
        Assert.Equal(content, Encoding.ASCII.GetString(entry.Content));
        Assert.Equal(JournalSegmentHeader.Length, entry.Offset);

        // The tag: the 8 bytes after the record's CRC-32.
        var tag = JournalSegmentHeader.Length + JournalRecord.PrefixLength + header.Length + content.Length + sizeof(uint);
        for (var bit = 0; bit < 64; bit++)
        {
            var segment = Segment(record);
            segment[tag + bit / 8] ^= (byte)(1 << (bit % 8));
            Assert.Empty(Read(segment));
        }
    }

    /// <summary>
    /// A CRC-32 over the record and then the key is linear: for records of one length the key adds
    /// one fixed 32-bit value, so the trailer of one record (learned, or guessed: a message can hold
    /// many forged records) forges any other of that length. The client's algebra: two records of
    /// one length have trailers that differ as they differ under any key, one of its own included.
    /// A record so built inside a message, its CRC-32 right, must not check without the key.
    /// </summary>
    [Fact]
    public void RecordBuiltInsideAMessage_WithTheRightCrcButNoTagFromTheKey_DoesNotCheck()
    {
        const string knownHeader = "{\"id\":\"20261128000000AAAAAAAA\",\"mailFrom\":\"alice@example.test\",\"rcpt\":\"bob@partner.test\"}";
        const string knownContent = "Subject: hello\r\n\r\nsee you at noon\r\n";
        const string forgedHeader = "{\"id\":\"20261128000000BBBBBBBB\",\"mailFrom\":\"ceo@example.test\",\"rcpt\":\"acct@elsewhere.tst\"}";
        const string forgedContent = "Subject: pay invoice 4711 now!!\r\n\r\n";
        Assert.Equal(knownHeader.Length, forgedHeader.Length);
        Assert.Equal(knownContent.Length, forgedContent.Length);
        var known = Framed(knownHeader, knownContent, Key);
        var own = new byte[Key.Length];
        var knownUnderOwn = Framed(knownHeader, knownContent, own);
        var forged = Framed(forgedHeader, forgedContent, own);
        var trailerLength = known.Length - JournalRecord.PrefixLength - knownHeader.Length - knownContent.Length;
        for (var i = forged.Length - trailerLength; i < forged.Length; i++) forged[i] ^= (byte)(known[i] ^ knownUnderOwn[i]);
        // The client's message carries the forged record; the prefix of the record carrying it never
        // reached the disk, so recovery searches its bytes for the next record.
        var message = "Subject: harmless\r\n\r\n" + Encoding.Latin1.GetString(forged) + "\r\n" + new string('x', 3000);
        var carrier = Framed("{\"id\":\"20261128000000CCCCCCCC\"}", message, Key);
        Array.Clear(carrier, 0, JournalRecord.PrefixLength);

        var entries = Read(Segment(known, carrier));

        Assert.DoesNotContain(entries, e => Encoding.ASCII.GetString(e.Header) == forgedHeader);
        Assert.Equal(knownHeader, Encoding.ASCII.GetString(Assert.Single(entries).Header));
        // Its CRC-32 was right: only the tag kept it out.
        var body = forged.Length - trailerLength;
        Assert.Equal(System.IO.Hashing.Crc32.HashToUInt32(forged.AsSpan(0, body)), System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(forged.AsSpan(body)));
    }
    /// <summary>
    /// Every candidate the search after a bad record tries costs the header its prefix claims (the
    /// tag is computed over it): a torn message full of prefixes claiming a mebibyte each would cost
    /// the start 200,000 MiB of hashing. The search gives up instead, and the segment is kept.
    /// </summary>
    [Fact]
    public async Task TornRecordFullOfPrefixesClaimingLargeHeaders_EndsTheSearchSoon_AndTheSegmentIsKept()
    {
        var first = Framed("{\"id\":\"20261128000000AAAAAAAA\"}", "Subject: first\r\n\r\nhi\r\n", Key);
        var fake = new byte[JournalRecord.PrefixLength];
        "GJ1A"u8.CopyTo(fake);
        BitConverter.GetBytes(JournalRecord.MaximumHeaderLength).CopyTo(fake, 4);
        var torn = Enumerable.Repeat(fake, 200_000).SelectMany(f => f).ToArray();
        byte[] segment = [.. _segmentHeader, .. first, .. torn, .. new byte[2 * JournalRecord.MaximumHeaderLength]];

        var read = Task.Run(() =>
        {
            using var stream = new MemoryStream(segment);
            return (Entries: JournalRecord.ReadAll(stream, keyed: true, out var complete, out var keptBecause), complete, keptBecause);
        });

        var (entries, complete, keptBecause) = await read.WaitAsync(TimeSpan.FromSeconds(60));
        Assert.Single(entries);
        Assert.False(complete);
        Assert.NotNull(keptBecause); // a segment whose search was given up must be kept, not deleted as a torn tail
        Assert.Contains("budget", keptBecause); // and the admin is told why, not that the disk is damaged
    }
}
