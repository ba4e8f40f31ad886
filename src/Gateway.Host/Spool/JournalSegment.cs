using Microsoft.Win32.SafeHandles;

namespace Gateway.Spool;

/// <summary>
/// One file of the accept journal while a gateway writes it, with what is known of it: how far
/// records were written, how far an fdatasync that succeeded covers them, and how many of its
/// messages are still in their first attempt. Guarded by the journal's lock.
/// </summary>
/// <param name="key">Its key (<see cref="JournalSegmentHeader"/>), written and synced before it was handed out: its records' tags are made with it.</param>
internal sealed class JournalSegment(string path, SafeFileHandle handle, EntryLock segmentLock, byte[] key)
{
    public string Path { get; } = path;
    public SafeFileHandle Handle { get; } = handle;
    /// <summary>Makes its records' tags: used under the journal's lock, as all of this.</summary>
    public JournalRecordTag Tag { get; } = new(key);

    /// <summary>Bytes written: its header, then records.</summary>
    public long Length { get; set; } = JournalSegmentHeader.Length;

    /// <summary>Bytes an fdatasync that succeeded has covered: a 250 needs its record below this.</summary>
    public long Synced { get; set; } = JournalSegmentHeader.Length;

    public bool HasRecords => Length > JournalSegmentHeader.Length;

    /// <summary>Messages written to it whose first attempt has not ended.</summary>
    public int Open { get; set; }

    /// <summary>
    /// An fdatasync failed (Linux reports a writeback error once and may have dropped the pages,
    /// so no later fdatasync proves anything), or a record's write did (part of it may be there,
    /// and a record written after it would leave the rest as a tail recovery reads): nothing more
    /// is written to it or acknowledged from it.
    /// </summary>
    public bool Failed { get; set; }

    public bool Closed { get; private set; }

    /// <param name="gone">The segment was deleted: its lock file goes too, where locks are files (not Linux).</param>
    public void Close(bool gone = false)
    {
        if (Closed) return;
        Closed = true;
        Handle.Dispose();
        Tag.Dispose();
        if (gone) segmentLock.Remove();
        segmentLock.Dispose();
    }
}
