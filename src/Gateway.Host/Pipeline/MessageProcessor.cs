using Gateway.Audit;
using Gateway.Mail;
using Gateway.Policy;
using Gateway.Relay;
using Gateway.Spool;
using Microsoft.Extensions.Logging;

namespace Gateway.Pipeline;

/// <summary>
/// What happens to a queued message, in order: plan with one policy snapshot and the
/// certificates found; refuse or hold who must not get it; make one copy per treatment group and
/// relay it; record each recipient's state; finish the entry or schedule the next attempt.
/// </summary>
public sealed partial class MessageProcessor(
    FileSpool spool,
    AcceptJournal journal,
    PolicyProvider policies,
    MessagePlanner planner,
    CopyDelivery delivery,
    BounceSender bounces,
    RetrySchedule retries,
    Microsoft.Extensions.Options.IOptions<Gateway.Configuration.GatewayOptions> options,
    IAuditLog audit,
    TimeProvider time,
    ILogger<MessageProcessor> logger)
{
    /// <summary>
    /// The state of entries whose envelope could not be saved after an attempt (a full or failing
    /// disk), by id. The envelope on disk does not know yet who got the message: the next attempt
    /// starts from this state, saved first, so nobody who got it is sent it again.
    /// </summary>
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, SpoolEnvelope> _unsaved = new(StringComparer.Ordinal);

    /// <returns>When to try again, or null when the entry is finished; and whether the entry was locked by someone else (no attempt made).</returns>
    public async Task<(DateTimeOffset? Next, bool Locked)> ProcessAsync(string id, CancellationToken cancellationToken)
    {
        // `gateway queue` may be holding, releasing or deleting this entry: never both at once. A
        // journaled one is known to this process only until its attempt moves it to incoming/: the
        // lock is held across that move too, so `gateway queue` waits for the attempt to end.
        using var entryLock = spool.TryLock(id);
        if (entryLock is null) return (time.GetUtcNow() + LockedRetry, true);
        DateTimeOffset? next;
        if (journal.Find(id) is { } journaled)
        {
            next = await AttemptAsync(journaled.Envelope, journaled.Content(), journaled, cancellationToken);
        }
        else
        {
            SpoolEnvelope? entry;
            // A state the last attempt could not save comes first: the envelope on disk does not
            // know who got the message, and on a failing disk may not even read (then it would be
            // taken for corrupt, and this state lost with it).
            if (_unsaved.TryGetValue(id, out var newer))
            {
                if (newer.IsFinished || !File.Exists(spool.EnvelopePath(id)))
                {
                    // Finished, its "completed" line written, but not yet removed; or deleted or held meanwhile.
                    if (newer.IsFinished) spool.Complete(id); // throws again while the disk still fails
                    _unsaved.TryRemove(id, out _);
                    entryLock.Remove();
                    return (null, false);
                }
                spool.Save(newer); // throws again while the disk still fails: no attempt before it holds
                _unsaved.TryRemove(id, out _);
                entry = newer;
            }
            else if ((entry = spool.TryLoad(id)) is null)
            {
                entryLock.Remove(); // deleted or held meanwhile
                return (null, false);
            }
            // The envelope on disk decides when: a stale wake-up must not make an early attempt.
            if (entry.NextAttempt is { } due && due > time.GetUtcNow()) return (due, false);
            if (ContentIsGone(spool.ContentPath(id)))
            {
                await GiveUpLostContentAsync(entry, cancellationToken);
                entryLock.Remove();
                return (null, false);
            }
            next = await AttemptAsync(entry, SpooledContent.InFile(spool.ContentPath(id)), null, cancellationToken);
        }
        if (next is null) entryLock.Remove();
        return (next, false);
    }

    /// <summary>
    /// The content of a queued entry is gone (deleted by hand, or lost with a disk): nothing can be
    /// sent, and trying again cannot change that. Its open recipients fail, the sender is told (a
    /// report without the original, which is lost), and the envelope is kept in corrupt/ for the
    /// admin, as recovery keeps an envelope without content. Mail we answered 250 is never dropped
    /// without a word.
    /// </summary>
    private async Task GiveUpLostContentAsync(SpoolEnvelope entry, CancellationToken cancellationToken)
    {
        var lost = SpooledContent.InMemory([], 0);
        var context = new ProcessingContext(entry, lost, policies.Current, MessageHeaders.Read(lost), time);
        var open = entry.Recipients.Where(r => r.IsOpen).Select(r => r.Address).ToList();
        await audit.TryWriteAsync(new AuditEvent("corrupt")
        {
            SpoolId = entry.Id, Sender = entry.MailFrom, Recipients = open,
            Action = "moved to corrupt/", Reason = "its content file is missing: nothing more can be sent",
        });
        try
        {
            await context.FailOpenAsync("550 5.3.0 the message was lost from the gateway's queue",
                "The gateway lost this message from its queue before it could be delivered (its content could not be found); please send it again.", audit, cancellationToken);
            await bounces.SendAsync(context, cancellationToken);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            LogBounceFailed(e, entry.Id); // the entry is kept in corrupt/ all the same
        }
        spool.Save(entry);
        spool.MoveToCorrupt(entry.Id, "its content file is missing");
    }

    /// <param name="journaled">Set when the entry is still in the accept journal: then its state goes to incoming/ only if it stays queued.</param>
    private async Task<DateTimeOffset?> AttemptAsync(SpoolEnvelope entry, SpooledContent content, JournalEntry? journaled, CancellationToken cancellationToken)
    {
        var id = entry.Id;
        entry.Attempts++;
        var context = new ProcessingContext(entry, content, policies.Current, MessageHeaders.Read(content), time);
        try
        {
            var open = entry.Recipients.Where(r => r.IsOpen).Select(r => r.Address).ToList();
            // None open: only reports are owed (a stop came between a failure and its report), and FinishAsync queues them.
            if (open.Count > 0)
            {
                var lookupGraceOver = time.GetUtcNow() - entry.ReceivedAt >= options.Value.Certificates.LookupFailureGrace;
                var plan = await planner.PlanAsync(context.Policy, entry.MailFrom, open, context.Headers.Facts, lookupGraceOver, cancellationToken);
                await context.RecordDecisionsAsync(plan, audit, cancellationToken);
                await context.RefuseAsync(plan.Refused, audit, cancellationToken);
                await context.HoldAsync(plan.Held, spool, audit, retries.ExpiresAt(entry.ReceivedAt), cancellationToken);
                await context.DeferAsync(plan.Deferred, audit, cancellationToken);
                if (plan.Groups.Count > 0 && await TriggerRemoval.PrepareAsync(spool, context, cancellationToken) is { } stripped) context.Source = stripped;
                foreach (var group in plan.Groups)
                    await delivery.DeliverAsync(context, plan, group, cancellationToken);
            }
            entry.ProcessingFailures = 0;
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown ran out of time: keep what this attempt learned (who already got it), then stop.
            entry.NextAttempt = null;
            await SaveAsync(context, journaled);
            throw;
        }
        catch (Exception e)
        {
            // Unknown errors are temporary: the entry stays queued and is tried again, until it has
            // failed often enough in a row to be a message we cannot process: then an admin decides.
            LogProcessingFailed(e, id);
            entry.ProcessingFailures++;
            var reason = $"processing failed {entry.ProcessingFailures} time(s) in a row ({e.GetType().Name}: {e.Message})";
            try
            {
                if (entry.ProcessingFailures >= options.Value.Spool.MaxProcessingFailures)
                    await context.HoldOpenAsync(reason, spool, audit, cancellationToken);
                else
                    await context.DeferOpenAsync($"451 4.3.0 {reason}", audit, cancellationToken);
            }
            catch (Exception recording) when (recording is IOException or UnauthorizedAccessException or ObjectDisposedException)
            {
                // The audit log (or the hold folder) cannot be written either: what this attempt
                // learned (who already got the message) is still saved below, so it is not sent twice.
                LogProcessingFailed(recording, id);
            }
        }
        finally
        {
            if (context.Source.IsWorkFile) File.Delete(context.Source.Path!);
        }
        return await FinishAsync(context, journaled, cancellationToken);
    }

    /// <summary>
    /// Records the entry's state: in its envelope, or, for a journaled one, by moving it to incoming/
    /// (when that fails it stays in the journal, this state in its memory until the process ends).
    /// </summary>
    private async Task SaveAsync(ProcessingContext context, JournalEntry? journaled)
    {
        if (journaled is not null)
        {
            await journal.MoveToIncomingAsync(journaled);
            return;
        }
        Remembering(context.Entry, spool.Save);
    }

    /// <summary>Writes the entry's state to the spool (<paramref name="write"/>); when that fails, <see cref="_unsaved"/> keeps it for the next attempt.</summary>
    private void Remembering(SpoolEnvelope entry, Action<SpoolEnvelope> write)
    {
        try
        {
            write(entry);
        }
        catch
        {
            _unsaved[entry.Id] = entry;
            throw;
        }
    }

    private async Task<DateTimeOffset?> FinishAsync(ProcessingContext context, JournalEntry? journaled, CancellationToken cancellationToken)
    {
        var entry = context.Entry;
        var now = time.GetUtcNow();
        try
        {
            if (retries.IsExpired(entry.ReceivedAt, now) && entry.Recipients.Any(r => r.IsOpen))
                await context.FailOpenAsync("550 5.4.7 delivery time expired: the message stayed queued longer than Gateway:Spool:MaximumLifetime",
                    "The message could not be delivered within the time the gateway keeps trying; the last error is below.", audit, cancellationToken);
            await bounces.SendAsync(context, cancellationToken);
            await bounces.ReportRelayedAsync(context, cancellationToken);
            await bounces.ReportHeldAsync(context, cancellationToken);
            if (!entry.IsFinished && retries.ShouldWarnOfDelay(entry, now))
            {
                await bounces.WarnDelayedAsync(context, retries.ExpiresAt(entry.ReceivedAt), cancellationToken);
                entry.DelayWarningSent = now;
            }
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // Shutdown: the reports not queued yet stay owed in the saved state, and the next attempt
            // (at once after the restart) queues them. Without this save a journaled entry would be
            // attempted again from its first state, and its delivered recipients sent a second copy.
            entry.NextAttempt = null;
            await SaveAsync(context, journaled);
            throw;
        }
        catch (Exception e)
        {
            // The audit log or the spool failed (a full disk): every recipient's state still stands and
            // is saved below (one that got a 250 must not get the message again); reports not queued
            // stay owed, so the entry stays queued and they are tried again with it, each for as long
            // as a message is (Spool:MaximumLifetime).
            LogReportFailed(e, entry.Id);
            await GiveUpReportsAsync(context, now - options.Value.Spool.MaximumLifetime);
        }

        if (entry.IsFinished)
        {
            // The line first: a removal that fails is done again without it (see ProcessAsync). A line
            // that cannot be written must not keep the entry, whose envelope on disk still has every
            // recipient it was saved with open: they would get the message again.
            await audit.TryWriteAsync(context.Event("completed") with
            {
                Action = "removed from queue",
                Status = string.Join(", ", entry.Recipients.GroupBy(r => r.Status).Select(g => $"{g.Key.ToString().ToLowerInvariant()}={g.Count()}")),
            });
            if (journaled is null) Remembering(entry, finished => spool.Complete(finished.Id));
            else journal.Complete(journaled);
            return null;
        }
        entry.NextAttempt = now + retries.DelayAfter(entry.Attempts);
        await SaveAsync(context, journaled);
        return entry.NextAttempt;
    }

    /// <summary>When a locked entry is tried again (`gateway queue` holds it).</summary>
    private static readonly TimeSpan LockedRetry = TimeSpan.FromSeconds(1);

    /// <summary>
    /// Only a content file that is not there: File.Exists says false for one the disk cannot read
    /// too, and such an entry must wait for the disk (the worker's backoff), not be given up on.
    /// </summary>
    private static bool ContentIsGone(string path)
    {
        try
        {
            File.GetAttributes(path);
            return false;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return true;
        }
    }

    /// <summary>Reports owed since before <paramref name="cutoff"/> that still cannot be queued are dropped, and that is audited.</summary>
    private async Task GiveUpReportsAsync(ProcessingContext context, DateTimeOffset cutoff)
    {
        var owed = context.OwedSince(cutoff);
        if (owed.Count == 0) return;
        await audit.TryWriteAsync(context.Event("report-lost") with
        {
            Recipients = owed.Select(r => r.Address).Distinct().ToList(),
            Reason = "the delivery status notification could not be queued for as long as Gateway:Spool:MaximumLifetime",
        });
        context.Settle(owed);
    }

    [LoggerMessage(EventId = 5002, Level = LogLevel.Error, Message = "The delivery status notification for {Id} could not be queued")]
    private partial void LogBounceFailed(Exception exception, string id);

    [LoggerMessage(EventId = 5003, Level = LogLevel.Error, Message = "A delivery status notification for {Id} could not be queued; it is tried again with the entry")]
    private partial void LogReportFailed(Exception exception, string id);

    [LoggerMessage(EventId = 5001, Level = LogLevel.Error, Message = "Processing of {Id} failed; deferred")]
    private partial void LogProcessingFailed(Exception exception, string id);
}
