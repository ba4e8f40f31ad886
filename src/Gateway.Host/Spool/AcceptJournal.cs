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
/// message is one record appended to a journal segment (spool/journal/*.journal), and sessions
/// accepting at the same time share one fdatasync before their 250s (group commit). A message in
/// its own files costs two file creations and two fsyncs, and creating files is what a busy
/// spool's file system spends most on.
/// <para>
/// The worker takes a journaled message from memory, as it was received. When its first attempt
/// finishes it (delivered, refused, held, bounced) a 'D' record says so; when anything stays open,
/// it is moved to incoming/ as an ordinary entry (content and envelope fsynced) before that 'D'
/// record, and the retries, <c>gateway queue</c> and recovery work on it as on any other. So only
/// messages in their first attempt live in the journal, and <c>gateway queue</c> does not list them.
/// </para>
/// <para>
/// A segment is deleted once it is full and all its messages are done. After a crash, recovery
/// (at start, and in <c>gateway queue</c> when no gateway runs) moves every message of the
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

    private const string Extension = ".journal";

    private readonly FileSpool _spool;
    private readonly TimeProvider _time;
    private readonly ILogger<AcceptJournal> _logger;
    private readonly bool _enabled;
    private readonly object _gate = new();
    private readonly ConcurrentDictionary<string, Entry> _entries = new(StringComparer.Ordinal);
    private readonly List<Segment> _unsynced = [];
    private readonly DirectorySync _commit;
    private Segment? _active;
    private Task<Segment>? _spare;
    private DateTimeOffset _noSegmentUntil;
    private long _inMemory;
    private bool _disposed;

    public AcceptJournal(FileSpool spool, IOptions<GatewayOptions> options, TimeProvider time, ILogger<AcceptJournal> logger)
    {
        _spool = spool;
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
        var content = CopyBuffers.Rent("journal");
        Entry? entry = null;
        try
        {
            var prefix = trace?.Invoke(id, now) ?? [];
            content.Write(prefix);
            var size = prefix.Length + CrlfWriter.Write(data, content);
            var envelope = FileSpool.NewEnvelope(id, mailFrom, recipients, client, helo, now, size, dsn);
            entry = Append(envelope, content);
            if (entry is null)
            {
                content.Dispose();
                return await _spool.AcceptAsync(data, mailFrom, recipients, client, helo, dsn, trace, cancellationToken);
            }
            await _commit.SyncAsync();
            return envelope;
        }
        catch
        {
            // Not acknowledged: the worker never sees it, and a 'D' record keeps recovery from sending it.
            if (entry is null) content.Dispose();
            else Finish(entry);
            throw;
        }
    }

    /// <summary>The journaled message with this id, while its first attempt has not ended.</summary>
    public Entry? Find(string id) => _entries.TryGetValue(id, out var entry) ? entry : null;

    /// <summary>Records that the message needs nothing more from the journal: every recipient is done with.</summary>
    public void Complete(Entry entry) => Finish(entry);

    /// <summary>
    /// Moves a message whose first attempt left recipients open to incoming/ with its state, durably,
    /// then marks it done here: from then on it is an ordinary spool entry.
    /// </summary>
    public async Task MoveToIncomingAsync(Entry entry)
    {
        await _spool.MaterializeAsync(entry.Envelope, entry.Content());
        Finish(entry);
    }

    /// <returns>Null when there is no segment to write to (see <see cref="SegmentFor"/>): the message then gets its own files.</returns>
    private Entry? Append(SpoolEnvelope envelope, MemoryStream content)
    {
        var header = JsonSerializer.SerializeToUtf8Bytes(envelope, SpoolJson.Options);
        // Recovery would take a longer record for a torn one.
        if (content.Length > JournalRecord.MaximumContentLength || header.Length > JournalRecord.MaximumHeaderLength) return null;
        var length = (int)content.Length;
        var body = new ReadOnlyMemory<byte>(content.GetBuffer(), 0, length);
        var (head, trailer) = JournalRecord.Frame(JournalRecord.Accepted, header, body.Span);
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (SegmentFor(head.Length + length + trailer.Length) is not { } segment) return null;
            var offset = segment.Length;
            RandomAccess.Write(segment.Handle, [head, body, trailer], offset);
            segment.Length += head.Length + length + trailer.Length;
            segment.Open++;
            if (!_unsynced.Contains(segment)) _unsynced.Add(segment);
            var keep = _inMemory + length <= MemoryLimit;
            if (keep) _inMemory += length;
            var entry = new Entry(envelope, segment, offset + head.Length, length, keep ? content : null);
            if (!keep) content.Dispose();
            _entries[envelope.Id] = entry;
            return entry;
        }
    }

    /// <summary>
    /// The segment to append a record to; null when none can be made (the disk is full or nearly,
    /// or the journal folder cannot be written): then messages get their own files, which need less
    /// room, and the journal is tried again after <see cref="SegmentRetry"/>.
    /// </summary>
    private Segment? SegmentFor(int recordLength)
    {
        if (_active is { Failed: false } active && (active.Length == 0 || active.Length + recordLength <= SegmentSize)) return active;
        if (_active is not null) Seal(_active);
        if (_time.GetUtcNow() < _noSegmentUntil) return null;
        try
        {
            _active = TakeSpare() ?? NewSegment();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            _noSegmentUntil = _time.GetUtcNow() + SegmentRetry;
            LogNoSegment(e, SegmentRetry);
            return null;
        }
        // The next one is made while this one fills: making one writes SegmentSize bytes.
        _spare = Task.Run(NewSegment);
        return _active;
    }

    private static readonly TimeSpan SegmentRetry = TimeSpan.FromMinutes(1);

    private Segment? TakeSpare()
    {
        var spare = _spare;
        _spare = null;
        if (spare is null) return null;
        try
        {
            return spare.GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogSpareFailed(e);
            return null; // made again now: its error, if it lasts, is the accept's
        }
    }

    /// <summary>
    /// A segment written full of zeros and synced before its first record: an fdatasync after a
    /// record then writes the record's blocks only, not the file's new size and block map (half
    /// the time of one after an append, measured on ext4). Reading stops at the zeros.
    /// </summary>
    private Segment NewSegment()
    {
        // The room a segment takes must not eat the spool's reserve (Spool:MinimumFreeSpace).
        if (!_spool.HasRoomFor(SegmentSize)) throw new IOException($"no room for a journal segment of {SegmentSize} bytes in {Folder}");
        Directory.CreateDirectory(Folder);
        var name = SpoolId.New(_time.GetUtcNow()) + Extension;
        var path = Path.Combine(Folder, name);
        var segmentLock = EntryLock.TryAcquire(_spool.Locks, LockName(name))
            ?? throw new IOException($"journal segment {path} is locked by another process");
        SafeFileHandle? handle = null;
        try
        {
            handle = File.OpenHandle(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.Read | FileShare.Delete);
            for (long offset = 0; offset < SegmentSize; offset += Zeros.Length) RandomAccess.Write(handle, Zeros.AsSpan(0, (int)Math.Min(Zeros.Length, SegmentSize - offset)), offset);
            DurableFile.SyncData(handle);
            // The segment's name must be on disk before the first 250 that depends on a record in it.
            DurableFile.SyncDirectory(Folder);
            LogSegmentStarted(path);
            return new Segment(path, handle, segmentLock);
        }
        catch
        {
            handle?.Dispose();
            try { File.Delete(path); } catch (IOException) { }
            segmentLock.Dispose();
            throw;
        }
    }

    private static readonly byte[] Zeros = new byte[1024 * 1024];

    /// <summary>The group commit: one fdatasync per segment written since the last one.</summary>
    private void SyncUnsynced()
    {
        Segment[] segments;
        lock (_gate)
        {
            segments = [.. _unsynced];
            _unsynced.Clear();
        }
        foreach (var segment in segments)
        {
            try
            {
                DurableFile.SyncData(segment.Handle);
            }
            catch (ObjectDisposedException) when (segment.Closed)
            {
                // Retired meanwhile, which synced it: every message in it was done with.
            }
            catch
            {
                // Linux reports a writeback error once and may have dropped the pages: nothing more
                // is written to this segment. Those who waited for this fdatasync fail with it.
                lock (_gate)
                {
                    segment.Failed = true;
                    if (_active == segment) Seal(segment);
                }
                throw;
            }
        }
    }

    private void Finish(Entry entry)
    {
        if (!_entries.TryRemove(new KeyValuePair<string, Entry>(entry.Envelope.Id, entry))) return;
        var header = Encoding.ASCII.GetBytes(entry.Envelope.Id);
        var (head, trailer) = JournalRecord.Frame(JournalRecord.Done, header, []);
        lock (_gate)
        {
            if (entry.InMemory is not null) _inMemory -= entry.ContentLength;
            var segment = entry.Segment;
            if (!segment.Closed)
            {
                try
                {
                    // Not synced here: a 'D' lost in a crash only means the message is sent again.
                    RandomAccess.Write(segment.Handle, [head, trailer], segment.Length);
                    segment.Length += head.Length + trailer.Length;
                }
                catch (IOException e)
                {
                    LogDoneNotRecorded(e, entry.Envelope.Id);
                }
                segment.Open--;
                if (segment != _active && segment.Open == 0) Retire(segment);
            }
        }
        entry.Release();
    }

    private void Seal(Segment segment)
    {
        if (_active == segment) _active = null;
        if (segment.Open == 0) Retire(segment);
    }

    /// <summary>A sealed segment with every message done: synced (so its 'D' records hold if the unlink is lost), then deleted.</summary>
    private void Retire(Segment segment)
    {
        try
        {
            if (!segment.Failed) DurableFile.SyncData(segment.Handle);
            File.Delete(segment.Path);
        }
        catch (IOException e)
        {
            LogRetireFailed(e, segment.Path);
        }
        segment.Close();
        _unsynced.Remove(segment);
    }

    /// <summary>
    /// Moves the messages of segments no running gateway writes (left by a crash or a stop) to
    /// incoming/, unless they are there already, and deletes the segments.
    /// </summary>
    /// <returns>How many messages were moved.</returns>
    public int Recover()
    {
        if (!Directory.Exists(Folder)) return 0;
        var moved = 0;
        foreach (var path in Directory.EnumerateFiles(Folder, "*" + Extension).Order(StringComparer.Ordinal))
        {
            var name = Path.GetFileName(path);
            lock (_gate)
                if (_active?.Path == path || _entries.Values.Any(e => e.Segment.Path == path)) continue;
            using var segmentLock = EntryLock.TryAcquire(_spool.Locks, LockName(name));
            if (segmentLock is null) continue; // a running gateway's
            moved += RecoverSegment(path);
        }
        if (moved > 0) DurableFile.SyncDirectory(_spool.Incoming);
        DurableFile.SyncDirectory(Folder);
        return moved;
    }

    private int RecoverSegment(string path)
    {
        List<JournalRecord.Entry> records;
        bool complete;
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan))
            records = JournalRecord.ReadAll(stream, out complete);
        if (!complete) LogTornTail(path, records.Count);
        var open = new Dictionary<string, (SpoolEnvelope Envelope, byte[] Content)>(StringComparer.Ordinal);
        var moved = 0;
        try
        {
            foreach (var record in records)
            {
                if (record.Kind == JournalRecord.Done)
                {
                    var id = Encoding.ASCII.GetString(record.Header);
                    if (open.Remove(id, out var done)) Array.Clear(done.Content);
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
        if (moved > 0) DurableFile.SyncDirectory(_spool.Incoming);
        File.Delete(path);
        LogRecovered(path, moved);
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
        foreach (var path in Directory.EnumerateFiles(folder, "*" + Extension))
        {
            List<JournalRecord.Entry> records;
            try
            {
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 64 * 1024, FileOptions.SequentialScan);
                records = JournalRecord.ReadAll(stream, out _);
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

    private static string LockName(string segmentName) => "journal-" + segmentName;

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            // Messages still open stay in their segments for recovery at the next start.
            var segments = _entries.Values.Select(e => e.Segment).Append(_active).OfType<Segment>().Distinct().ToList();
            _active = null;
            try
            {
                if (_spare?.GetAwaiter().GetResult() is { } spare) segments.Add(spare);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
            _spare = null;
            foreach (var segment in segments)
            {
                if (segment.Open == 0) Retire(segment);
                else segment.Close();
            }
            // Their memory is not released: an attempt cut by the shutdown may still be reading it.
        }
    }

    /// <summary>A journaled message in its first attempt.</summary>
    public sealed class Entry
    {
        private readonly object _contentGate = new();
        private MemoryStream? _readBack;

        internal Entry(SpoolEnvelope envelope, Segment segment, long contentOffset, int contentLength, MemoryStream? inMemory)
        {
            Envelope = envelope;
            Segment = segment;
            ContentOffset = contentOffset;
            ContentLength = contentLength;
            InMemory = inMemory;
        }

        public SpoolEnvelope Envelope { get; }
        internal Segment Segment { get; }
        internal long ContentOffset { get; }
        internal int ContentLength { get; }
        internal MemoryStream? InMemory { get; private set; }

        /// <summary>The message as spooled: from memory, or read back from its segment once.</summary>
        public SpooledContent Content()
        {
            lock (_contentGate)
            {
                var stream = InMemory ?? _readBack;
                if (stream is null)
                {
                    stream = CopyBuffers.Rent("journal-read");
                    stream.SetLength(ContentLength);
                    var buffer = stream.GetBuffer();
                    var read = RandomAccess.Read(Segment.Handle, buffer.AsSpan(0, ContentLength), ContentOffset);
                    if (read != ContentLength) throw new IOException($"journal segment {Segment.Path}: message {Envelope.Id} is cut short");
                    _readBack = stream;
                }
                return SpooledContent.InMemory(stream.GetBuffer(), ContentLength);
            }
        }

        internal void Release()
        {
            lock (_contentGate)
            {
                InMemory?.Dispose();
                InMemory = null;
                _readBack?.Dispose();
                _readBack = null;
            }
        }
    }

    internal sealed class Segment(string path, SafeFileHandle handle, EntryLock segmentLock)
    {
        public string Path { get; } = path;
        public SafeFileHandle Handle { get; } = handle;
        public long Length { get; set; }
        public int Open { get; set; }
        public bool Failed { get; set; }
        public bool Closed { get; private set; }

        public void Close()
        {
            if (Closed) return;
            Closed = true;
            Handle.Dispose();
            segmentLock.Dispose();
        }
    }

    [LoggerMessage(EventId = 2010, Level = LogLevel.Debug, Message = "Accept journal: new segment {Path}")]
    private partial void LogSegmentStarted(string path);

    [LoggerMessage(EventId = 2016, Level = LogLevel.Warning, Message = "Accept journal: the next segment could not be prepared; trying again")]
    private partial void LogSpareFailed(Exception exception);

    [LoggerMessage(EventId = 2017, Level = LogLevel.Warning, Message = "Accept journal: no segment can be made; messages get their own files for {Retry}")]
    private partial void LogNoSegment(Exception exception, TimeSpan retry);

    [LoggerMessage(EventId = 2011, Level = LogLevel.Warning, Message = "Accept journal: could not record {Id} as done; it may be sent again after a crash")]
    private partial void LogDoneNotRecorded(Exception exception, string id);

    [LoggerMessage(EventId = 2012, Level = LogLevel.Warning, Message = "Accept journal: could not delete the finished segment {Path}")]
    private partial void LogRetireFailed(Exception exception, string path);

    [LoggerMessage(EventId = 2013, Level = LogLevel.Information, Message = "Accept journal {Path}: {Count} unfinished messages moved to incoming/")]
    private partial void LogRecovered(string path, int count);

    [LoggerMessage(EventId = 2014, Level = LogLevel.Information, Message = "Accept journal {Path}: reading stopped after {Count} whole records (a record cut short by a crash is one that was never acknowledged)")]
    private partial void LogTornTail(string path, int count);

    [LoggerMessage(EventId = 2015, Level = LogLevel.Error, Message = "Accept journal {Path}: the record at offset {Offset} has an unreadable envelope; skipped")]
    private partial void LogBadRecord(string path, long offset);
}
