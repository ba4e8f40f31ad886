using System.Buffers.Binary;
using Gateway.Spool;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// A record as versions before segment keys wrote it: ended by the CRC-32 of its bytes, no tag.
/// The journal still reads such segments (*.journal) and never writes one, and anyone can frame
/// such a record: a client can build one inside its message.
/// </summary>
internal static class LegacyJournalRecord
{
    public static byte[] Of(byte kind, byte[] header, byte[] content)
    {
        var (head, checksum) = JournalRecord.Begin(kind, header, content);
        var trailer = new byte[JournalRecord.LegacyTrailerLength];
        BinaryPrimitives.WriteUInt32LittleEndian(trailer, checksum.GetCurrentHashAsUInt32());
        return [.. head, .. content, .. trailer];
    }
}
