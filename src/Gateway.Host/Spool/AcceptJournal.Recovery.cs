using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Gateway.Spool;

/// <summary>What a stopped or crashed gateway left in the journal: moved to incoming/ at the next start, listed by <c>gateway queue</c>.</summary>
public sealed partial class AcceptJournal
{
    /// <summary>
    /// Moves the messages of segments no running gateway writes (left by a crash or a stop) to
    /// incoming/, unless they are there already, and deletes the segments.
    /// </summary>
    /// <returns>How many messages were moved.</returns>
    public int Recover()
    {
        if (!Directory.Exists(Folder)) return 0;
        var moved = 0;
        foreach (var path in JournalSegmentFile.In(Folder).Order(StringComparer.Ordinal))
        {
            lock (_gate)
                if (_segments.Any(s => s.Path == path) || _active?.Path == path) continue;
            using var segmentLock = EntryLock.TryAcquire(_spool.Locks, LockName(Path.GetFileName(path)));
            if (segmentLock is null) continue; // a running gateway's (or this one's spare)
            moved += RecoverSegment(path);
            segmentLock.Remove(); // its lock file, where locks are files
        }
        DurableFile.SyncDirectory(Folder);
        return moved;
    }

    private int RecoverSegment(string path)
    {
        List<JournalRecord.Entry> records;
        bool complete;
        string? keptBecause;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan))
            records = JournalRecord.ReadAll(stream, JournalSegmentFile.IsKeyed(path), out complete, out keptBecause);
        if (!complete) LogTornTail(path, records.Count);
        var open = new Dictionary<string, (SpoolEnvelope Envelope, byte[] Content)>(StringComparer.Ordinal);
        var moved = 0;
        try
        {
            foreach (var record in records)
            {
                if (record.Kind == JournalRecord.Done)
                {
                    if (open.Remove(Encoding.ASCII.GetString(record.Header), out var done)) Array.Clear(done.Content);
                    continue;
                }
                if (TryEnvelope(record.Header) is not { } envelope)
                {
                    LogBadRecord(path, record.Offset);
                    Array.Clear(record.Content);
                    continue;
                }
                open[envelope.Id] = (envelope, record.Content);
            }
            _spool.EnsureFolders();
            foreach (var (envelope, content) in open.Values)
            {
                if (_spool.Exists(envelope.Id)) continue; // moved before the crash, its 'D' record lost
                _spool.Materialize(envelope, SpooledContent.InMemory(content, content.Length));
                moved++;
            }
        }
        finally
        {
            foreach (var (_, content) in open.Values) Array.Clear(content);
        }
        // Every message of the segment must be durable in incoming/ before the segment goes,
        // those moved by an earlier recovery that crashed too.
        if (open.Count > 0) DurableFile.SyncDirectory(_spool.Incoming);
        if (keptBecause is not null)
        {
            // Not known to be a crash's torn tail. What could be read is in incoming/; the segment
            // is kept for the admin.
            var kept = Path.Combine(_spool.Corrupt, Path.GetFileName(path));
            File.Move(path, kept, overwrite: true);
            DurableFile.SyncDirectory(_spool.Corrupt);
            LogKept(path, keptBecause, kept, moved);
        }
        else
        {
            File.Delete(path);
            LogRecovered(path, moved);
        }
        return moved;
    }

    /// <summary>
    /// The messages of every segment that are not done and not yet in incoming/, read without
    /// taking anything (for <c>gateway queue list</c>, while a gateway may be writing): those in
    /// their first attempt, or left by a gateway that stopped, to be moved at its next start.
    /// </summary>
    public static IReadOnlyList<SpoolEnvelope> ReadUnfinished(FileSpool spool)
    {
        var folder = Path.Combine(spool.Root, "journal");
        var open = new Dictionary<string, SpoolEnvelope>(StringComparer.Ordinal);
        if (!Directory.Exists(folder)) return [];
        foreach (var path in JournalSegmentFile.In(folder))
        {
            List<JournalRecord.Entry> records;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
                records = JournalRecord.ReadAll(stream, JournalSegmentFile.IsKeyed(path), out _, out _);
            }
            catch (FileNotFoundException)
            {
                continue; // retired meanwhile
            }
            foreach (var record in records)
            {
                Array.Clear(record.Content);
                if (record.Kind == JournalRecord.Done) open.Remove(Encoding.ASCII.GetString(record.Header));
                else if (TryEnvelope(record.Header) is { } envelope) open[envelope.Id] = envelope;
            }
        }
        return open.Values.Where(e => !spool.Exists(e.Id)).OrderBy(e => e.Id, StringComparer.Ordinal).ToList();
    }

    private static SpoolEnvelope? TryEnvelope(byte[] header)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize<SpoolEnvelope>(header, SpoolJson.Options);
            return envelope is not null && SpoolId.IsValid(envelope.Id) && envelope.Recipients.Count > 0 ? envelope : null;
        }
        catch (JsonException)
        {
            return null;
        }
    }

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "Accept journal {Path}: {Count} unfinished messages moved to incoming/")]
    private partial void LogRecovered(string path, int count);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Information, Message = "Accept journal {Path}: reading stopped after {Count} whole records (a record cut short by a crash is one that was never acknowledged)")]
    private partial void LogTornTail(string path, int count);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Error, Message = "Accept journal {Path}: the record at offset {Offset} has an unreadable envelope; skipped")]
    private partial void LogBadRecord(string path, long offset);

    [LoggerMessage(EventId = 2018, Level = LogLevel.Error, Message = "Accept journal {Path}: {Why}; {Count} unfinished messages that could be read moved to incoming/, the segment kept as {Kept}")]
    private partial void LogKept(string path, string why, string kept, int count);
}
