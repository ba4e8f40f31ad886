using Gateway.Audit;

namespace Gateway.Spool;

/// <summary>
/// The queue actions behind <c>gateway queue</c>, safe while the gateway runs: every change is
/// made under the entry's lock (so a worker in the middle of an attempt is waited for, never
/// interrupted), with the spool's own write order (content, then envelope as commit marker), and
/// audited. The running gateway is then asked to look again through <see cref="SpoolControl"/>.
/// </summary>
public sealed class SpoolAdministration(FileSpool spool, SpoolControl control, IAuditLog audit, TimeProvider time)
{
    /// <summary>An attempt holds its entry for at most a relay timeout or so; the admin waits that long.</summary>
    public static readonly TimeSpan LockWait = TimeSpan.FromSeconds(30);
    internal const string HeldLockPrefix = "held.";

    public QueueListing List()
    {
        var entries = new List<QueueEntry>();
        var unreadable = new List<UnreadableEntry>();
        foreach (var id in FileSpool.EntryNames(spool.Incoming))
            if (Read(spool.Incoming, id, QueueEntry.IncomingQueue, unreadable) is { } entry) entries.Add(entry);
        foreach (var name in FileSpool.EntryNames(spool.Hold))
            if (Read(spool.Hold, name, QueueEntry.HoldQueue, unreadable) is { } entry) entries.Add(entry);
        // Shown, not acted on: the running gateway owns them until their first attempt ends.
        foreach (var envelope in AcceptJournal.ReadUnfinished(spool))
            entries.Add(new QueueEntry(envelope.Id, QueueEntry.JournalQueue, envelope));
        return new QueueListing(entries, unreadable);
    }

    /// <summary>Incoming first, then hold. Reads without a lock: an envelope is only ever replaced whole.</summary>
    /// <param name="unreadable">Set when the entry's envelope is there but cannot be read (then the result is null).</param>
    public QueueEntry? Find(string name, out UnreadableEntry? unreadable)
    {
        var problems = new List<UnreadableEntry>(1);
        var entry = (SpoolId.IsValid(name) ? Read(spool.Incoming, name, QueueEntry.IncomingQueue, problems) : null)
            ?? (problems.Count == 0 ? Read(spool.Hold, name, QueueEntry.HoldQueue, problems) : null);
        unreadable = problems.FirstOrDefault();
        return entry;
    }

    /// <summary>
    /// One envelope; null when it is not there (finished or moved between the listing and the read),
    /// or when it cannot be read: then <paramref name="unreadable"/> names the file and why, so one
    /// bad file (a disk error, a hand edit) never hides the rest of the queue behind a stack trace.
    /// </summary>
    private static QueueEntry? Read(string folder, string name, string queue, List<UnreadableEntry> unreadable)
    {
        var path = Path.Combine(folder, name + ".json");
        try
        {
            var envelope = System.Text.Json.JsonSerializer.Deserialize<SpoolEnvelope>(File.ReadAllBytes(path), SpoolJson.Options);
            if (envelope is not null) return new QueueEntry(name, queue, envelope);
            unreadable.Add(new UnreadableEntry(path, "the file holds JSON null"));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            // Finished between the listing and the read.
        }
        catch (Exception e) when (e is System.Text.Json.JsonException or IOException or UnauthorizedAccessException or NotSupportedException)
        {
            unreadable.Add(new UnreadableEntry(path, e.Message));
        }
        return null;
    }

    public string ContentPath(QueueEntry entry) =>
        entry.Queue == QueueEntry.HoldQueue ? spool.HeldContentPath(entry.Name) : spool.ContentPath(entry.Name);

    public async Task<QueueActionResult> RetryAsync(string id, CancellationToken cancellationToken)
    {
        using var entryLock = await EntryLock.AcquireAsync(spool.Locks, id, LockWait, cancellationToken);
        if (entryLock is null) return Busy(id);
        var entry = spool.TryLoad(id);
        if (entry is null) return NotQueued(id);
        entry.NextAttempt = time.GetUtcNow();
        spool.Save(entry);
        control.RequestWake(id);
        await AuditAsync("queue-retry", entry, "next attempt set to now", cancellationToken);
        return new QueueActionResult(true, $"{id}: next attempt now");
    }

    public async Task<IReadOnlyList<QueueActionResult>> RetryAllAsync(CancellationToken cancellationToken)
    {
        var results = new List<QueueActionResult>();
        foreach (var id in FileSpool.EntryNames(spool.Incoming))
            results.Add(await RetryAsync(id, cancellationToken));
        return results;
    }

    /// <summary>Moves the open recipients of an incoming entry to hold/ID; delivered and failed ones are done already.</summary>
    public async Task<QueueActionResult> HoldAsync(string id, CancellationToken cancellationToken)
    {
        using var entryLock = await EntryLock.AcquireAsync(spool.Locks, id, LockWait, cancellationToken);
        if (entryLock is null) return Busy(id);
        var entry = spool.TryLoad(id);
        if (entry is null) return NotQueued(id);
        var open = entry.Recipients.Where(r => r.IsOpen).ToList();
        if (open.Count == 0)
            return new QueueActionResult(false, $"{id}: no recipient is waiting for delivery; the entry stays queued only for the reports it still owes the sender");
        await spool.CopyToHoldAsync(entry, SpooledContent.InFile(spool.ContentPath(id)), id, open, cancellationToken);
        if (entry.Recipients.Any(r => r.ReportOwed is not null))
        {
            // Reports owed for recipients already done are still the sender's: the entry stays for them alone.
            foreach (var recipient in open)
            {
                recipient.Status = RecipientStatus.Held;
                recipient.Reply = $"held by gateway queue hold as hold/{id}";
                recipient.UpdatedAt = time.GetUtcNow();
            }
            entry.NextAttempt = time.GetUtcNow();
            spool.Save(entry);
            control.RequestWake(id);
        }
        else
        {
            spool.Complete(id);
            entryLock.Remove();
        }
        await AuditAsync("queue-hold", entry, $"moved to hold/{id}", cancellationToken, open.Select(r => r.Address).ToList());
        return new QueueActionResult(true, $"{id}: held ({Counted.Of(open.Count, "recipient", "recipients")}) in hold/{id}");
    }

    /// <summary>
    /// Puts a held entry back into incoming/ (held recipients become pending) and has it processed:
    /// the policy decides again, so a recipient whose certificate is still missing is held again.
    /// </summary>
    /// <param name="because">Set when Gateway releases the copy by itself (it waited for a certificate): audited as hold-released with this reason.</param>
    public async Task<QueueActionResult> ReleaseAsync(string name, CancellationToken cancellationToken, string? because = null)
    {
        using var heldLock = await EntryLock.AcquireAsync(spool.Locks, HeldLockPrefix + name, LockWait, cancellationToken);
        if (heldLock is null) return Busy(name);
        var held = LoadHeld(name, out var unreadable);
        if (unreadable is not null) return new QueueActionResult(false, $"{unreadable}; mend it, or remove the copy with `gateway queue delete {name}`");
        if (held is null) return new QueueActionResult(false, $"{name}: not in the hold queue");
        // A policy hold copy (ID-N) or an id still in use in incoming/ gets a fresh id.
        var id = SpoolId.IsValid(name) && !File.Exists(spool.ContentPath(name)) ? name : SpoolId.New(time.GetUtcNow());
        using var entryLock = spool.TryLock(id);
        if (entryLock is null) return Busy(id);
        var recipients = held.Recipients
            .Select(r => r.Status == RecipientStatus.Held ? r.With(RecipientStatus.Pending, reply: null, r.Attempts) : r)
            .ToList();
        var released = held.With(id, recipients);
        await spool.AdmitAsync(spool.HeldContentPath(name), released, cancellationToken);
        spool.DeleteHeld(name);
        heldLock.Remove();
        control.RequestWake(id);
        if (because is null) await AuditAsync("queue-release", released, $"released from hold/{name} as incoming/{id}", cancellationToken);
        else
        {
            await audit.WriteAsync(new AuditEvent("hold-released")
            {
                SpoolId = released.Id, Sender = released.MailFrom, Action = $"released from hold/{name} as incoming/{id}", Reason = because,
                Recipients = released.Recipients.Where(r => r.IsOpen).Select(r => r.Address).ToList(),
            }, cancellationToken);
        }
        return new QueueActionResult(true, $"{name}: released as {id}");
    }

    /// <summary>Removes an entry for good, without a bounce: the admin decided. The audit keeps who was left.</summary>
    public async Task<QueueActionResult> DeleteAsync(string name, CancellationToken cancellationToken)
    {
        if (SpoolId.IsValid(name) && File.Exists(Path.Combine(spool.Incoming, name + ".json")))
        {
            using var entryLock = await EntryLock.AcquireAsync(spool.Locks, name, LockWait, cancellationToken);
            if (entryLock is null) return Busy(name);
            var entry = spool.TryLoad(name);
            if (entry is null) return NotQueued(name);
            spool.Complete(name);
            entryLock.Remove();
            await AuditAsync("queue-delete", entry, "deleted from incoming/ without delivery or bounce", cancellationToken);
            return new QueueActionResult(true, $"{name}: deleted");
        }
        using var heldLock = await EntryLock.AcquireAsync(spool.Locks, HeldLockPrefix + name, LockWait, cancellationToken);
        if (heldLock is null) return Busy(name);
        var held = LoadHeld(name, out var unreadable);
        if (held is null && unreadable is null) return NotQueued(name);
        spool.DeleteHeld(name);
        heldLock.Remove();
        if (held is not null) await AuditAsync("queue-delete", held, $"deleted from hold/{name} without delivery or bounce", cancellationToken);
        else
        {
            // Whose mail it was cannot be read any more; the admin removed it knowing that.
            await audit.WriteAsync(new AuditEvent("queue-delete")
            {
                SpoolId = name, Action = $"deleted from hold/{name} without delivery or bounce", Client = "gateway queue",
                Reason = $"by {Environment.UserName} (pid {Environment.ProcessId}); {unreadable}",
            }, cancellationToken);
        }
        return new QueueActionResult(true, $"{name}: deleted from hold");
    }

    /// <summary>A held envelope, read as <c>list</c> reads it (<see cref="Read"/>); null when it is not there, or when it cannot be read: then <paramref name="unreadable"/> names the file and why.</summary>
    private SpoolEnvelope? LoadHeld(string name, out string? unreadable)
    {
        var problems = new List<UnreadableEntry>(1);
        var entry = Read(spool.Hold, name, QueueEntry.HoldQueue, problems);
        unreadable = problems is [var problem] ? $"{name}: its envelope {problem.Path} cannot be read: {problem.Problem}" : null;
        return entry?.Envelope;
    }

    private ValueTask AuditAsync(string name, SpoolEnvelope entry, string action, CancellationToken cancellationToken, IReadOnlyList<string>? recipients = null) =>
        audit.WriteAsync(new AuditEvent(name)
        {
            SpoolId = entry.Id, Sender = entry.MailFrom, Action = action, Client = "gateway queue",
            Recipients = recipients ?? entry.Recipients.Where(r => r.Status is not (RecipientStatus.Delivered or RecipientStatus.Failed)).Select(r => r.Address).ToList(),
            Reason = $"by {Environment.UserName} (pid {Environment.ProcessId})",
        }, cancellationToken);

    private static QueueActionResult Busy(string name) =>
        new(false, $"{name}: a delivery attempt still holds it after {LockWait.TotalSeconds:0} s; try again");

    private QueueActionResult NotQueued(string name) => new(false, NotQueuedMessage(name));

    /// <summary>Why an entry cannot be acted on: still in its first attempt in the accept journal, held, or gone.</summary>
    public string NotQueuedMessage(string name)
    {
        if (AcceptJournal.ReadUnfinished(spool).Any(e => e.Id == name))
            return $"{name}: in its first attempt (accept journal); `list` shows it, and it can be acted on once that attempt ends (it is then delivered or in incoming/)";
        if (File.Exists(Path.Combine(spool.Hold, name + ".json")))
            return $"{name}: held in hold/{name}, not queued; `gateway queue release {name}` puts it back in the queue and processes it now";
        // A policy hold copy is ID-N: the admin may give the id the client was told.
        var copies = FileSpool.EntryNames(spool.Hold).Where(n => n.StartsWith(name + "-", StringComparison.Ordinal)).ToList();
        return copies.Count > 0
            ? $"{name}: not in the queue; held as {string.Join(", ", copies.Select(c => $"hold/{c}"))} (`gateway queue release {copies[0]}` puts one back)"
            : $"{name}: not in the queue (delivered, deleted or never queued)";
    }
}
