using System.Buffers;
using System.Text.Json;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Spool;

/// <summary>
/// The durable queue, one folder per state:
/// <c>incoming/</c> holds accepted messages (<c>ID.eml</c> + <c>ID.json</c>, the envelope written
/// last as commit marker), <c>hold/</c> copies parked until a certificate is known or an admin decides, <c>corrupt/</c> entries that
/// could not be read, <c>work/</c> transient output of the transformation of large messages,
/// <c>locks/</c> the file whose byte-range locks say which entry is being worked on (<see cref="EntryLock"/>), <c>control/</c> requests from
/// <c>gateway queue</c> to the running gateway (<see cref="SpoolControl"/>).
/// </summary>
public sealed partial class FileSpool
{
    private readonly ILogger<FileSpool> _logger;
    private readonly TimeProvider _time;
    private readonly long _minimumFreeSpace;
    private readonly DirectorySync _incomingNames;

    public FileSpool(IOptions<GatewayOptions> options, TimeProvider time, ILogger<FileSpool> logger)
    {
        _time = time;
        _logger = logger;
        _minimumFreeSpace = options.Value.Spool.MinimumFreeSpace ?? 2 * options.Value.Smtp.MaxMessageSize;
        Root = Path.GetFullPath(options.Value.Spool.Path);
        Incoming = Path.Combine(Root, "incoming");
        Hold = Path.Combine(Root, "hold");
        Corrupt = Path.Combine(Root, "corrupt");
        Work = Path.Combine(Root, "work");
        var (spool, relay) = (options.Value.Spool, options.Value.Relay);
        WorkFiles = new WorkFiles(Work, WorkFiles.AtOnce(spool.EffectiveWorkers(relay), spool.EffectiveTransforms(relay)));
        Locks = Path.Combine(Root, "locks");
        Control = Path.Combine(Root, "control");
        _incomingNames = DirectorySync.For(Incoming);
    }

    public string Root { get; }
    public string Incoming { get; }
    public string Hold { get; }
    public string Corrupt { get; }
    public string Work { get; }

    /// <summary>Reused files in <see cref="Work"/> for copies too large for memory.</summary>
    public WorkFiles WorkFiles { get; }
    public string Locks { get; }
    public string Control { get; }

    public string ContentPath(string id) => Path.Combine(Incoming, id + ".eml");
    public string EnvelopePath(string id) => Path.Combine(Incoming, id + ".json");

    /// <summary>
    /// Whether a message of <paramref name="size"/> bytes leaves Spool:MinimumFreeSpace free.
    /// statvfs through DriveInfo: cheap enough to ask once per message.
    /// </summary>
    public bool HasRoomFor(long size)
    {
        if (_minimumFreeSpace == 0) return true;
        try
        {
            return new DriveInfo(Incoming).AvailableFreeSpace - size >= _minimumFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException)
        {
            return true; // cannot tell: the write itself will say (ENOSPC is still 452)
        }
    }

    /// <summary>Null while another worker or <c>gateway queue</c> holds the entry.</summary>
    public EntryLock? TryLock(string id) => EntryLock.TryAcquire(Locks, id);

    /// <summary>
    /// Writes content then envelope, each fsynced, then fsyncs the folder. Only when this returns
    /// may the client be told 250: the message survives a crash from then on.
    /// </summary>
    /// <param name="dsn">ENVID and RET from MAIL FROM and each recipient's NOTIFY and ORCPT, kept for our reports and passed upstream.</param>
    /// <param name="trace">Header lines (CRLF-terminated) to put before the message, from its spool id and time: our Received line.</param>
    /// <remarks>
    /// Writes synchronously (see <see cref="DurableFile.WriteAllBytes"/>): the message is already in
    /// memory. The content's fsync runs on another thread while the envelope is written and
    /// fsynced: both must be on disk before the rename that commits the entry, but not one after
    /// the other (one fsync less of latency before the 250).
    /// </remarks>
    public async Task<SpoolEnvelope> AcceptAsync(ReadOnlySequence<byte> data, string mailFrom, IReadOnlyList<string> recipients, string client, string? helo,
        DsnParameters? dsn, Func<string, DateTimeOffset, byte[]>? trace, CancellationToken cancellationToken)
    {
        var now = _time.GetUtcNow();
        var id = SpoolId.New(now);
        var contentPath = ContentPath(id);
        var temporary = EnvelopePath(id) + ".tmp";
        try
        {
            cancellationToken.ThrowIfCancellationRequested();
            SpoolEnvelope envelope;
            using (var stream = new FileStream(contentPath, FileMode.CreateNew, FileAccess.Write, FileShare.None, 0, FileOptions.None))
            {
                var prefix = trace?.Invoke(id, now) ?? [];
                stream.Write(prefix);
                var size = prefix.Length + CrlfWriter.Write(data, stream);
                var contentDurable = Task.Run(() => stream.Flush(flushToDisk: true), CancellationToken.None);
                try
                {
                    envelope = NewEnvelope(id, mailFrom, recipients, client, helo, now, size, dsn);
                    DurableFile.WriteAllBytes(temporary, JsonSerializer.SerializeToUtf8Bytes(envelope, SpoolJson.Options));
                }
                finally
                {
                    // The stream is disposed next: its fsync must be over first, whatever happened here.
                    await Task.WhenAny(contentDurable);
                }
                await contentDurable; // an fsync that failed fails the accept
            }
            // The commit: an envelope under its own name exists only for content on disk, and a
            // crash before it leaves a temporary envelope that recovery removes with the content.
            // The folder's fsync (both names) is shared with sessions accepting at the same time.
            File.Move(temporary, EnvelopePath(id), overwrite: true);
            await _incomingNames.SyncAsync();
            return envelope;
        }
        catch
        {
            // Never leave half an entry: without its envelope the content is removed now, not at the next start.
            TryDelete(temporary);
            TryDelete(EnvelopePath(id));
            TryDelete(contentPath);
            throw;
        }
    }

    internal static SpoolEnvelope NewEnvelope(string id, string mailFrom, IReadOnlyList<string> recipients, string client, string? helo,
        DateTimeOffset now, long size, DsnParameters? dsn) => new()
    {
        Id = id,
        MailFrom = mailFrom,
        Recipients = recipients.Select((r, i) => new SpoolRecipient { Address = r, Notify = dsn?.For(i)?.Notify, OriginalRecipient = dsn?.For(i)?.OriginalRecipient }).ToList(),
        Client = client,
        Helo = helo,
        ReceivedAt = now,
        Size = size,
        EnvelopeId = dsn?.EnvelopeId,
        Return = dsn?.Return,
    };

    /// <summary>
    /// Writes an entry kept elsewhere until now (the accept journal) as incoming/ID.eml and ID.json,
    /// each fsynced, the envelope last as commit marker, then fsyncs the folder (shared with the
    /// sessions accepting at the same time).
    /// </summary>
    public async Task MaterializeAsync(SpoolEnvelope envelope, SpooledContent content)
    {
        Materialize(envelope, content);
        await _incomingNames.SyncAsync();
    }

    /// <summary>As <see cref="MaterializeAsync"/> without the folder's fsync: recovery does one for all.</summary>
    internal void Materialize(SpoolEnvelope envelope, SpooledContent content)
    {
        using (var input = content.OpenRead()) DurableFile.WriteAll(ContentPath(envelope.Id), input);
        // The envelope last, as the commit marker.
        DurableFile.Replace(EnvelopePath(envelope.Id), JsonSerializer.SerializeToUtf8Bytes(envelope, SpoolJson.Options), syncDirectory: false);
    }

    /// <summary>Whether incoming/ has an entry (its envelope) under this id.</summary>
    public bool Exists(string id) => File.Exists(EnvelopePath(id));

    /// <summary>The spool's folders, and the shared lock file, as the service and the queue tools expect them.</summary>
    public void EnsureFolders()
    {
        foreach (var folder in new[] { Root, Incoming, Hold, Corrupt, Work, Locks, Control }) Directory.CreateDirectory(folder);
        EntryLock.Prepare(Locks);
    }

    /// <summary>
    /// Brings the spool back after a stop or a crash: creates the folders, removes content that
    /// was never acknowledged (and hold copies never completed), moves unreadable entries to
    /// corrupt/, returns the ids to process. Only while no other gateway uses the spool (<see cref="SpoolOwnership"/>).
    /// </summary>
    public IReadOnlyList<string> Recover()
    {
        EnsureFolders();
        foreach (var file in Directory.EnumerateFiles(Work)) TryDelete(file);
        foreach (var file in Directory.EnumerateFiles(Incoming, "*.tmp")) TryDelete(file);

        var ready = new List<string>();
        foreach (var content in Directory.EnumerateFiles(Incoming, "*.eml"))
        {
            var id = Path.GetFileNameWithoutExtension(content);
            // `gateway queue release` may be writing this entry right now: its lock says so.
            using var entryLock = TryLock(id);
            if (entryLock is null)
            {
                ready.Add(id);
                continue;
            }
            if (!File.Exists(EnvelopePath(id)))
            {
                LogUnacknowledged(id);
                TryDelete(content);
                continue;
            }
            if (TryLoad(id) is null) continue;
            ready.Add(id);
        }
        foreach (var envelope in Directory.EnumerateFiles(Incoming, "*.json"))
        {
            var id = Path.GetFileNameWithoutExtension(envelope);
            using var entryLock = TryLock(id);
            if (entryLock is not null && !File.Exists(ContentPath(id))) MoveToCorrupt(id, "envelope without content");
        }
        RecoverHold();
        ready.Sort(StringComparer.Ordinal);
        DurableFile.SyncDirectory(Incoming);
        return ready;
    }

    /// <summary>
    /// Removes what a crash (or a failed write) left of a hold copy: content without its envelope,
    /// and temporary envelopes. Only the workers of this gateway (not started yet; it is the only one
    /// on the spool) and <c>gateway queue hold ID</c>, under ID's lock, write copies there.
    /// </summary>
    private void RecoverHold()
    {
        // A copy ID-N is written under the lock of its entry, ID.
        static string EntryOf(string name) => name.Split('-')[0];
        foreach (var temporary in Directory.EnumerateFiles(Hold, "*.json.tmp"))
        {
            using var entryLock = TryLock(EntryOf(Path.GetFileNameWithoutExtension(Path.GetFileNameWithoutExtension(temporary))));
            if (entryLock is not null) TryDelete(temporary);
        }
        foreach (var content in Directory.EnumerateFiles(Hold, "*.eml"))
        {
            var name = Path.GetFileNameWithoutExtension(content);
            using var entryLock = TryLock(EntryOf(name));
            if (entryLock is null || File.Exists(Path.Combine(Hold, name + ".json"))) continue;
            LogHeldContentWithoutEnvelope(name);
            TryDelete(content);
        }
    }

    public SpoolEnvelope? TryLoad(string id)
    {
        try
        {
            var envelope = JsonSerializer.Deserialize<SpoolEnvelope>(File.ReadAllBytes(EnvelopePath(id)), SpoolJson.Options);
            if (envelope is not null && envelope.Id == id && envelope.Recipients.Count > 0) return envelope;
            MoveToCorrupt(id, "envelope is empty or names another id");
        }
        catch (FileNotFoundException)
        {
            return null;
        }
        catch (Exception e) when (e is JsonException or IOException or NotSupportedException)
        {
            MoveToCorrupt(id, e.Message);
        }
        return null;
    }

    /// <summary>Records per-recipient state atomically (write, fsync, rename, fsync folder).</summary>
    public void Save(SpoolEnvelope envelope) =>
        DurableFile.Replace(EnvelopePath(envelope.Id), JsonSerializer.SerializeToUtf8Bytes(envelope, SpoolJson.Options));

    /// <summary>Removes a finished entry: envelope first, so a crash in between leaves content that recovery deletes.</summary>
    public void Complete(string id)
    {
        File.Delete(EnvelopePath(id));
        File.Delete(ContentPath(id));
        // No directory fsync here, as in Postfix: a power cut that loses these unlinks brings a
        // delivered entry back and it is sent again (at least once); one fsync per message less.
    }

    public void MoveToCorrupt(string id, string reason)
    {
        LogCorrupt(id, reason);
        foreach (var extension in new[] { ".eml", ".json" })
        {
            var source = Path.Combine(Incoming, id + extension);
            if (File.Exists(source)) File.Move(source, Path.Combine(Corrupt, id + extension), overwrite: true);
        }
    }

    public string NewWorkFile(string id, int copy) => Path.Combine(Work, $"{id}-{copy}-{Guid.NewGuid():N}.eml");

    private static void TryDelete(string path)
    {
        try { File.Delete(path); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    [LoggerMessage(EventId = 2001, Level = LogLevel.Warning, Message = "Spool entry {Id}: content without envelope was never acknowledged; removed")]
    private partial void LogUnacknowledged(string id);

    [LoggerMessage(EventId = 2003, Level = LogLevel.Warning, Message = "Hold copy {Name}: content without envelope was never held; removed")]
    private partial void LogHeldContentWithoutEnvelope(string name);

    [LoggerMessage(EventId = 2002, Level = LogLevel.Error, Message = "Spool entry {Id} moved to corrupt/: {Reason}")]
    private partial void LogCorrupt(string id, string reason);
}
