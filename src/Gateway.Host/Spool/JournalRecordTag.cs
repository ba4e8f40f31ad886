using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Gateway.Spool;

/// <summary>
/// What makes a record of a keyed segment one this gateway wrote: the first 8 bytes of
/// HMAC-SHA256, under the segment's key (<see cref="JournalSegmentHeader"/>), of the record's
/// prefix and header, then of its CRC-32.
/// <para>
/// A CRC-32 that covers the key cannot do it: CRC-32 is linear, so the key adds one fixed 32-bit
/// value per record length. A message holding many forged records of one length tries as many
/// values (about one torn carrier in 2^15 would pass), and one value learned forges any record of
/// that length.
/// </para>
/// <para>
/// The content enters through the record's CRC-32 (which, for a given prefix and header, is the
/// content's CRC-32 moved by a constant; the prefix holds the content's length), not byte for byte:
/// the message's bytes are summed once, outside the journal's lock (<see cref="JournalRecord.Begin"/>),
/// and the tag costs about a microsecond under it. That is sound because no tag ever leaves the
/// spool: binding the CRC-32 rather than the content matters only to someone holding a tag, who
/// could pair it with other content of the same CRC-32 (easy to make). A client holds none, and a
/// tag for a prefix, header and CRC-32 of its choosing needs the key.
/// </para>
/// </summary>
/// <remarks>
/// One per segment, its HMAC context made once: made per record it cost about 10 µs each (two
/// records a message, 20 µs of the 430 µs a pass-through message costs, measured with bench/ab).
/// Not for two threads at once: the journal uses it under its lock, recovery from one thread.
/// </remarks>
internal sealed class JournalRecordTag(byte[] key) : IDisposable
{
    public const int Length = 8;

    private readonly IncrementalHash _mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, key);

    public void Compute(ReadOnlySpan<byte> head, uint checksum, Span<byte> tag)
    {
        Span<byte> crc = stackalloc byte[sizeof(uint)];
        BinaryPrimitives.WriteUInt32LittleEndian(crc, checksum);
        _mac.AppendData(head);
        _mac.AppendData(crc);
        Span<byte> full = stackalloc byte[HMACSHA256.HashSizeInBytes];
        _mac.GetHashAndReset(full);
        full[..Length].CopyTo(tag);
    }

    public bool Checks(ReadOnlySpan<byte> head, uint checksum, ReadOnlySpan<byte> tag)
    {
        Span<byte> expected = stackalloc byte[Length];
        Compute(head, checksum, expected);
        return CryptographicOperations.FixedTimeEquals(expected, tag);
    }

    public void Dispose() => _mac.Dispose();
}
