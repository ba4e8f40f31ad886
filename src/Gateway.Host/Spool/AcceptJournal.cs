using System.Buffers;
using System.Collections.Concurrent;
using System.Text;
using System.Text.Json;
using Gateway.Configuration;
using Gateway.Pipeline;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Spool;

/// <summary>
/// The fast way into the spool for messages up to <see cref="MaximumMessageSize"/>: each accepted
/// message is one record appended to a journal segment (spool/journal/*.journal2, see
/// <see cref="JournalSegmentFile"/>), and sessions accepting at the same time share one fdatasync
/// before their 250s (group commit). A message in its own files costs two file creations and two
/// fsyncs, and creating files is what a busy spool's file system spends most on.
/// <para>
/// The worker takes a journaled message from memory, as it was received. When its first attempt
/// finishes it (delivered, refused, held, bounced) a 'D' record says so; when anything stays open,
/// it is moved to incoming/ as an ordinary entry (content and envelope fsynced) before that 'D'
/// record, and the retries, <c>gateway queue</c> and recovery work on it as on any other. So only
/// messages in their first attempt live in the journal; <c>gateway queue list</c> shows them
/// (queue <c>journal</c>) and no other command acts on them. A clean stop moves those still
/// waiting to incoming/ too, so only a crash leaves messages in the journal.
/// </para>
/// <para>
/// A segment is deleted once it is full and all its messages are done. After a crash, recovery
/// (at start, before the listener opens; see AcceptJournal.Recovery.cs) moves every message of the
/// segments left behind that has no 'D' record to incoming/: a message is delivered at least once,
/// as with the files (a lost 'D' record means it is sent again).
/// </para>
/// </summary>
public sealed partial class AcceptJournal : IDisposable
{
    /// <summary>Larger messages get their own files: their cost is in their bytes, not in file creations.</summary>
    public const long MaximumMessageSize = 1024 * 1024;

    /// <summary>Bytes per segment, written as zeros when it is made (tests use small ones).</summary>
    internal long SegmentSize { get; init; } = 32 * 1024 * 1024;

    /// <summary>
    /// Journaled messages kept in memory for the worker, in bytes. Beyond it (a burst the workers
    /// cannot keep up with), a message is read back from its segment when its turn comes.
    /// </summary>
    internal long MemoryLimit { get; init; } = 64 * 1024 * 1024;

    private static readonly TimeSpan SegmentRetry = TimeSpan.FromMinutes(1);
    private static readonly byte[] Zeros = new byte[1024 * 1024];

    private readonly FileSpool _spool;
    private readonly CopyBuffers _buffers;
    private readonly TimeProvider _time;
    private readonly ILogger<AcceptJournal> _logger;
    private readonly bool _enabled;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, JournalEntry> _entries = new(StringComparer.Ordinal);
    private readonly List<JournalSegment> _segments = [];
    private readonly List<JournalSegment> _toRetire = [];
    private readonly DirectorySync _commit;
    private JournalSegment? _active;
    private Task<JournalSegment>? _spare;
    private DateTimeOffset _noSegmentUntil;
    private long _inMemory;
    private bool _disposed;

    public AcceptJournal(FileSpool spool, CopyBuffers buffers, IOptions<GatewayOptions> options, TimeProvider time, ILogger<AcceptJournal> logger)
    {
        _spool = spool;
        _buffers = buffers;
        _time = time;
        _logger = logger;
        _enabled = options.Value.Spool.Journal && (OperatingSystem.IsLinux() || OperatingSystem.IsMacOS()); // fdatasync
        Folder = Path.Combine(spool.Root, "journal");
        _commit = new DirectorySync(SyncUnsynced);
    }

    public string Folder { get; }

    /// <summary>Messages accepted into the journal and not yet done (their first attempt has not ended).</summary>
    public int Count => _entries.Count;

    /// <summary>
    /// Durably accepts a message: into the journal when it is small enough (and Spool:Journal is on),
    /// else into its own files (<see cref="FileSpool.AcceptAsync"/>). Only when this returns may the
    /// client be told 250.
    /// </summary>
    public async Task<SpoolEnvelope> AcceptAsync(ReadOnlySequence<byte> data, string mailFrom, IReadOnlyList<string> recipients, string client, string? helo,
        DsnParameters? dsn, Func<string, DateTimeOffset, byte[]>? trace, CancellationToken cancellationToken)
    {
        if (!_enabled || data.Length > MaximumMessageSize)
            return await _spool.AcceptAsync(data, mailFrom, recipients, client, helo, dsn, trace, cancellationToken);

        cancellationToken.ThrowIfCancellationRequested();
        var now = _time.GetUtcNow();
        var id = SpoolId.New(now);
        var prefix = trace?.Invoke(id, now) ?? [];
        var (bytes, length) = Spooled(prefix, data);
        var envelope = FileSpool.NewEnvelope(id, mailFrom, recipients, client, helo, now, length, dsn);
        JournalEntry? entry;
        try
        {
            entry = Append(envelope, bytes, length);
        }
        catch
        {
            ArrayPool<byte>.Shared.Return(bytes, clearArray: true);
            throw;
        }
        if (entry is null)
        {
            ArrayPool<byte>.Shared.Return(bytes, clearArray: true);
            return await _spool.AcceptAsync(data, mailFrom, recipients, client, helo, dsn, trace, cancellationToken);
        }
        try
        {
            await _commit.SyncAsync();
            // The group commit returning is not enough: the fdatasync that covered this record may
            // have been another caller's, and failed (see JournalSegment.Failed).
            if (!IsDurable(entry)) throw new IOException($"journal segment {entry.Segment.Path}: the record of {id} could not be made durable (an fdatasync failed)");
            return envelope;
        }
        catch
        {
            // Not acknowledged: the worker never sees it, and a 'D' record keeps recovery from sending it.
            Finish(entry);
            throw;
        }
    }

    /// <summary>The message with its Received line and CRLF line ends, in a pooled array of its own.</summary>
    private (byte[] Bytes, int Length) Spooled(byte[] prefix, ReadOnlySequence<byte> data)
    {
        using var staging = _buffers.Rent("journal");
        staging.Write(prefix);
        CrlfWriter.Write(data, staging);
        var length = (int)staging.Length;
        var bytes = ArrayPool<byte>.Shared.Rent(length);
        staging.Position = 0;
        staging.ReadExactly(bytes, 0, length);
        return (bytes, length);
    }

    private bool IsDurable(JournalEntry entry)
    {
        lock (_gate) return !entry.Segment.Failed && entry.Segment.Synced >= entry.End;
    }

    /// <summary>The journaled message with this id, while its first attempt has not ended.</summary>
    public JournalEntry? Find(string id) => _entries.TryGetValue(id, out var entry) ? entry : null;

    /// <summary>
    /// Takes back a message accepted a moment ago whose acceptance could not be completed (its
    /// audit line could not be written): the client is answered 4xx and sends it again, so it
    /// must not also be delivered from here. In the journal or in its own files.
    /// </summary>
    /// <returns>False when it could not be taken back: then it stays queued, as accepted.</returns>
    /// <remarks>
    /// The withdrawal is made durable before the caller answers 4xx, as the acceptance was before a
    /// 250: a crash must not bring back a message whose client was told to send it again. When
    /// that sync fails the message may come back after a crash: twice rather than never.
    /// </remarks>
    public async Task<bool> WithdrawAsync(string id)
    {
        if (Find(id) is { } entry)
        {
            if (!Finish(entry)) return false;
            try
            {
                await _commit.SyncAsync(); // the 'D' record
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogDoneNotRecorded(e, id);
            }
            return true;
        }
        try
        {
            using var entryLock = _spool.TryLock(id);
            // Held by `gateway queue`, or already gone (delivered by a flush, held): it is not ours to take back.
            if (entryLock is null || !File.Exists(_spool.EnvelopePath(id))) return false;
            _spool.Complete(id);
            entryLock.Remove();
            DurableFile.SyncDirectory(_spool.Incoming);
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>Records that the message needs nothing more from the journal: every recipient is done with.</summary>
    public void Complete(JournalEntry entry) => Finish(entry);

    /// <summary>
    /// Moves a message whose first attempt left recipients open to incoming/ with its state, durably,
    /// then marks it done here: from then on it is an ordinary spool entry. It is out of
    /// <see cref="Find"/> from the start, so no second attempt is ever made from the journal on a
    /// message that is also in incoming/.
    /// </summary>
    /// <returns>False when it was no longer in the journal (finished or moved meanwhile).</returns>
    public async Task<bool> MoveToIncomingAsync(JournalEntry entry)
    {
        if (!_entries.TryRemove(new KeyValuePair<string, JournalEntry>(entry.Envelope.Id, entry))) return false;
        try
        {
            await _spool.MaterializeAsync(entry.Envelope, entry.Content());
        }
        catch
        {
            _entries[entry.Envelope.Id] = entry; // still only here: the worker tries again
            throw;
        }
        Done(entry);
        return true;
    }

    /// <summary>
    /// On a clean stop, after the workers: moves the messages still waiting for their first attempt
    /// to incoming/, so a stopped gateway's spool holds files only (what `gateway queue` acts on,
    /// and what a version without the journal reads). One whose attempt still holds its entry lock
    /// stays in the journal, for recovery at the next start.
    /// </summary>
    /// <param name="cancellationToken">The host's stop running out: what is left is moved by recovery at the next start.</param>
    /// <returns>How many were moved.</returns>
    public async Task<int> MoveWaitingToIncomingAsync(CancellationToken cancellationToken)
    {
        var moved = 0;
        foreach (var entry in _entries.Values.OrderBy(e => e.Envelope.Id, StringComparer.Ordinal).ToList())
        {
            if (cancellationToken.IsCancellationRequested) break;
            try
            {
                using var entryLock = _spool.TryLock(entry.Envelope.Id);
                if (entryLock is null) continue;
                if (await MoveToIncomingAsync(entry)) moved++;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogNotMovedAtStop(e, entry.Envelope.Id);
            }
        }
        return moved;
    }

    /// <returns>Null when there is no segment to write to (see <see cref="SegmentFor"/>): the message then gets its own files.</returns>
    private JournalEntry? Append(SpoolEnvelope envelope, byte[] bytes, int length)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(envelope, SpoolJson.Options);
        // Recovery would take a longer record for a torn one.
        if (length > JournalRecord.MaximumContentLength || header.Length > JournalRecord.MaximumHeaderLength) return null;
        var body = new ReadOnlyMemory<byte>(bytes, 0, length);
        var (head, checksum) = JournalRecord.Begin(JournalRecord.Accepted, header, body.Span);
        JournalEntry entry;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (SegmentFor(head.Length + length + JournalRecord.TrailerLength) is not { } segment) return null;
            var trailer = JournalRecord.Trailer(head, checksum, segment.Tag);
            var offset = segment.Length;
            try
            {
                RandomAccess.Write(segment.Handle, [head, body, trailer], offset);
            }
            catch
            {
                // Part of the record may be on disk. A record written after it would start here, and
                // a shorter one would leave the rest of this one (a client's bytes) for recovery to
                // read as records; nor does a later fdatasync prove this segment's pages any more.
                segment.Failed = true;
                Seal(segment);
                LogWriteFailed(segment.Path);
                throw;
            }
            segment.Length += head.Length + length + trailer.Length;
            segment.Open++;
            var keep = _inMemory + bytes.Length <= MemoryLimit;
            entry = new JournalEntry(envelope, segment, offset + head.Length, length, segment.Length, keep ? bytes : null);
            entry.CountMemory();
            _inMemory += entry.MemoryHeld;
            _entries[envelope.Id] = entry;
            if (!keep) ArrayPool<byte>.Shared.Return(bytes, clearArray: true);
        }
        RetirePending();
        return entry;
    }

    /// <summary>
    /// The segment to append a record to; null when there is none: the disk is full or nearly, or the
    /// journal folder cannot be written (then messages get their own files, which need less room, and
    /// the journal is tried again after <see cref="SegmentRetry"/>), or the next segment is still
    /// being made (then for a few messages; nobody waits for it under the journal's lock).
    /// </summary>
    private JournalSegment? SegmentFor(int recordLength)
    {
        if (_active is { Failed: false } active && (!active.HasRecords || active.Length + recordLength <= SegmentSize)) return active;
        if (_active is not null) Seal(_active);
        if (_time.GetUtcNow() < _noSegmentUntil) return null;
        JournalSegment next;
        try
        {
            if (_spare is null) next = NewSegment(); // the first one, or after a failure
            else if (!_spare.IsCompleted) return null;
            else next = _spare.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _spare = null;
            _noSegmentUntil = _time.GetUtcNow() + SegmentRetry;
            LogNoSegment(e, SegmentRetry);
            return null;
        }
        _active = next;
        _segments.Add(next);
        // The next one is made while this one fills: making one writes SegmentSize bytes.
        _spare = Task.Run(NewSegment);
        return next;
    }

    /// <summary>
    /// A segment written full of zeros and synced before its first record: an fdatasync after a
    /// record then writes the record's blocks only, not the file's new size and block map (half
    /// the time of one after an append, measured on ext4). Reading stops at the zeros.
    /// </summary>
    private JournalSegment NewSegment()
    {
        // The room a segment takes must not eat the spool's reserve (Spool:MinimumFreeSpace).
        if (!_spool.HasRoomFor(SegmentSize)) throw new IOException($"no room for a journal segment of {SegmentSize} bytes in {Folder}");
        if (!Directory.Exists(Folder))
        {
            Directory.CreateDirectory(Folder);
            DurableFile.SyncDirectory(_spool.Root); // the folder's own name
        }
        var name = SpoolId.New(_time.GetUtcNow()) + JournalSegmentFile.Extension;
        var path = Path.Combine(Folder, name);
        var segmentLock = EntryLock.TryAcquire(_spool.Locks, LockName(name))
            ?? throw new IOException($"journal segment {path} is locked by another process");
        SafeFileHandle? handle = null;
        try
        {
            handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            // The key is on disk before any record that needs it: it is synced with the first zeros.
            var header = JournalSegmentHeader.New();
            RandomAccess.Write(handle, header, 0);
            // Synced a MiB at a time: one fdatasync of the whole segment kept the disk busy long
            // enough to hold up the sessions' own fdatasyncs (a p99 of 13-18 ms to the 250).
            for (long offset = header.Length; offset < SegmentSize; offset += Zeros.Length)
            {
                RandomAccess.Write(handle, Zeros.AsSpan(0, (int)Math.Min(Zeros.Length, SegmentSize - offset)), offset);
                DurableFile.SyncData(handle);
            }
            // The segment's name must be on disk before the first 250 that depends on a record in it.
            DurableFile.SyncDirectory(Folder);
            LogSegmentStarted(path);
            return new JournalSegment(path, handle, segmentLock, JournalSegmentHeader.KeyOf(header));
        }
        catch
        {
            handle?.Dispose();
            try { File.Delete(path); } catch (IOException) { }
            segmentLock.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The group commit: one fdatasync per segment with records (or 'D' records) written since its
    /// last one. A segment counts as synced only as far as it was written before its fdatasync
    /// began, and only if that fdatasync succeeded.
    /// </summary>
    private void SyncUnsynced()
    {
        List<(JournalSegment Segment, long Length)> due;
        lock (_gate) due = _segments.Where(s => !s.Failed && !s.Closed && s.Length > s.Synced).Select(s => (s, s.Length)).ToList();
        Exception? failure = null;
        foreach (var (segment, length) in due)
        {
            try
            {
                DurableFile.SyncData(segment.Handle);
                lock (_gate) segment.Synced = Math.Max(segment.Synced, length);
            }
            catch (ObjectDisposedException)
            {
                // Closed meanwhile: retired (all its messages done) or by Dispose, which synced it.
                // Either way its Synced says what holds.
            }
            catch (Exception e)
            {
                // Linux reports a writeback error once and may have dropped the pages: nothing more
                // is written to this segment, and nothing in it not yet synced is acknowledged.
                lock (_gate)
                {
                    segment.Failed = true;
                    if (_active == segment) Seal(segment);
                }
                LogSyncFailed(e, segment.Path);
                failure ??= e;
            }
        }
        RetirePending();
        if (failure is not null) System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(failure);
    }

    /// <returns>False when it was no longer in the journal (finished or moved meanwhile).</returns>
    private bool Finish(JournalEntry entry)
    {
        if (!_entries.TryRemove(new KeyValuePair<string, JournalEntry>(entry.Envelope.Id, entry))) return false;
        Done(entry);
        return true;
    }

    /// <summary>A 'D' record for an entry already out of <see cref="_entries"/>; its memory returned.</summary>
    private void Done(JournalEntry entry)
    {
        var id = Encoding.ASCII.GetBytes(entry.Envelope.Id);
        lock (_gate)
        {
            _inMemory -= entry.MemoryHeld;
            var segment = entry.Segment;
            if (!segment.Closed)
            {
                if (!segment.Failed)
                {
                    try
                    {
                        var (head, trailer) = JournalRecord.Frame(JournalRecord.Done, id, [], segment.Tag);
                        // Synced with the next group commit, not waited for: a 'D' lost in a crash
                        // only means the message is sent again.
                        RandomAccess.Write(segment.Handle, [head, trailer], segment.Length);
                        segment.Length += head.Length + trailer.Length;
                    }
                    catch (IOException e)
                    {
                        LogDoneNotRecorded(e, entry.Envelope.Id);
                    }
                }
                segment.Open--;
                if (segment != _active && segment.Open == 0) ScheduleRetire(segment);
            }
        }
        entry.Release();
        RetirePending();
    }

    private void Seal(JournalSegment segment)
    {
        if (_active == segment) _active = null;
        if (segment.Open == 0) ScheduleRetire(segment);
    }

    private void ScheduleRetire(JournalSegment segment)
    {
        _segments.Remove(segment);
        _toRetire.Add(segment);
    }

    /// <summary>
    /// Deletes the sealed segments whose messages are all done, outside the journal's lock (an
    /// fdatasync each, so their 'D' records hold if the unlink is lost in a crash).
    /// </summary>
    private void RetirePending()
    {
        List<JournalSegment> retiring;
        lock (_gate)
        {
            if (_toRetire.Count == 0) return;
            retiring = [.. _toRetire];
            _toRetire.Clear();
        }
        foreach (var segment in retiring)
        {
            var deleted = false;
            try
            {
                if (!segment.Failed) DurableFile.SyncData(segment.Handle);
                File.Delete(segment.Path);
                deleted = true;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                LogRetireFailed(e, segment.Path);
            }
            lock (_gate) segment.Close(gone: deleted);
        }
    }

    private static string LockName(string segmentName) => "journal-" + segmentName;

    public void Dispose()
    {
        Task<JournalSegment>? spare;
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _active = null;
            // Messages still open stay in their segments for recovery at the next start. A session
            // may still be waiting for its group commit: the segment is synced before it is closed,
            // and that session's 250 rests on this fdatasync (or its failure refuses it).
            foreach (var segment in _segments.ToList())
            {
                if (segment.Open == 0)
                {
                    ScheduleRetire(segment);
                    continue;
                }
                if (!segment.Failed && segment.Length > segment.Synced)
                {
                    try
                    {
                        DurableFile.SyncData(segment.Handle);
                        segment.Synced = segment.Length;
                    }
                    catch (Exception e)
                    {
                        segment.Failed = true;
                        LogSyncFailed(e, segment.Path);
                    }
                }
                segment.Close();
            }
            _segments.Clear();
            spare = _spare;
            _spare = null;
            // Their memory is not released: an attempt cut by the shutdown may still be reading it.
        }
        RetirePending();
        try
        {
            if (spare?.GetAwaiter().GetResult() is { } unused)
            {
                File.Delete(unused.Path);
                unused.Close(gone: true);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Debug, Message = "Accept journal: new segment {Path}")]
    private partial void LogSegmentStarted(string path);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Error, Message = "Accept journal: fdatasync of {Path} failed; nothing more is written to it, and its messages not yet acknowledged are refused with 451")]
    private partial void LogSyncFailed(Exception exception, string path);

    [LoggerMessage(EventId = 2020, Level = LogLevel.Error, Message = "Accept journal: a record's write to {Path} failed; nothing more is written to it, and its messages not yet acknowledged are refused with 451")]
    private partial void LogWriteFailed(string path);

    [LoggerMessage(EventId = 2019, Level = LogLevel.Warning, Message = "Accept journal: {Id} could not be moved to incoming/ at the stop; it stays in the journal for the next start")]
    private partial void LogNotMovedAtStop(Exception exception, string id);

    [LoggerMessage(EventId = 2017, Level = LogLevel.Warning, Message = "Accept journal: no segment can be made; messages get their own files for {Retry}")]
    private partial void LogNoSegment(Exception exception, TimeSpan retry);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Accept journal: could not record {Id} as done; it may be sent again after a crash")]
    private partial void LogDoneNotRecorded(Exception exception, string id);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Accept journal: could not delete the finished segment {Path}")]
    private partial void LogRetireFailed(Exception exception, string path);
}
