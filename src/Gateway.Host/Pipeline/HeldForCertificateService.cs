using Gateway.Configuration;
using Gateway.Policy;
using Gateway.Spool;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Pipeline;

/// <summary>
/// Copies the policy held because a certificate was missing (<c>missingCertificate: hold</c>) go
/// out by themselves once it is known: every <c>Spool:HeldRecheckInterval</c> each such copy is
/// planned again, with the policy and the certificates of now, and released when a held
/// recipient would be delivered (a partner's certificate harvested from a reply, imported, put
/// in the folder, published in the directory); those still without one are held again. Released, it is an incoming entry like any
/// other: the policy decides once more and encrypts. One still waiting <c>Spool:MaximumLifetime</c>
/// after receipt is returned: its recipients fail and the sender gets the report, as for any
/// message that could not be delivered in time. A copy an admin held, or one Gateway could not
/// process, waits for an admin as before.
/// </summary>
public sealed partial class HeldForCertificateService(
    FileSpool spool,
    SpoolAdministration administration,
    PolicyProvider policies,
    MessagePlanner planner,
    BounceSender bounces,
    RetrySchedule retries,
    Gateway.Audit.IAuditLog audit,
    IOptions<GatewayOptions> options,
    TimeProvider time,
    ILogger<HeldForCertificateService> logger) : BackgroundService
{
    /// <summary>How often copies are looked at when Spool:HeldRecheckInterval is zero: only to return those whose time is up.</summary>
    private static readonly TimeSpan ReturnOnlyInterval = TimeSpan.FromMinutes(5);

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var interval = options.Value.Spool.HeldRecheckInterval;
        var release = interval > TimeSpan.Zero;
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await Task.Delay(release ? interval : ReturnOnlyInterval, time, stoppingToken);
                await RecheckAsync(stoppingToken, release);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                LogRecheckFailed(e); // never the end of the gateway: next round
            }
        }
    }

    /// <param name="release">False when Spool:HeldRecheckInterval is zero: copies are only returned when their time is up, never released.</param>
    /// <returns>The names of the copies released.</returns>
    public async Task<IReadOnlyList<string>> RecheckAsync(CancellationToken cancellationToken, bool release = true)
    {
        var released = new List<string>();
        foreach (var name in FileSpool.EntryNames(spool.Hold))
        {
            try
            {
                if (await RecheckAsync(name, release, cancellationToken)) released.Add(name);
            }
            catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                LogCopyFailed(e, name); // one copy that cannot be read or planned does not hold up the others
            }
        }
        return released;
    }

    private async Task<bool> RecheckAsync(string name, bool release, CancellationToken cancellationToken)
    {
        if (spool.TryLoadHeld(name) is not { WaitsFor: SpoolEnvelope.Certificate } held) return false;
        var waiting = held.Recipients.Where(r => r.Status == RecipientStatus.Held).Select(r => r.Address).ToList();
        if (waiting.Count == 0) return false;
        if (retries.IsExpired(held.ReceivedAt, time.GetUtcNow()))
        {
            await ReturnAsync(name, cancellationToken);
            return false;
        }
        if (!release) return false;
        var headers = MessageHeaders.Read(SpooledContent.InFile(spool.HeldContentPath(name)));
        // Grace not over: a source that cannot be asked now keeps the copy waiting, it does not count as "no certificate".
        var plan = await planner.PlanAsync(policies.Current, held.MailFrom, waiting, headers.Facts, lookupGraceOver: false, cancellationToken);
        // One recipient that can be delivered is enough: the copy is released whole, and the attempt
        // that follows holds the others again in a copy of their own, with the same receipt time
        // (so the same return date) and no second notice (SpoolRecipient.HoldReported).
        var deliverable = plan.Groups.SelectMany(g => g.Recipients).Select(r => r.Address).ToList();
        if (deliverable.Count == 0) return false;
        var result = await administration.ReleaseAsync(name, cancellationToken,
            because: $"the certificate(s) it waited for are known now; policy revision {plan.PolicyRevision} delivers to {string.Join(", ", deliverable)}");
        if (!result.Succeeded) LogReleaseFailed(name, result.Message);
        return result.Succeeded;
    }

    /// <summary>
    /// The copy's time is up: its held recipients fail, the sender gets the report (queued before the
    /// copy is deleted, so a full disk keeps the copy for the next round), and the copy is removed.
    /// </summary>
    private async Task ReturnAsync(string name, CancellationToken cancellationToken)
    {
        using var heldLock = await EntryLock.AcquireAsync(spool.Locks, SpoolAdministration.HeldLockPrefix + name, SpoolAdministration.LockWait, cancellationToken);
        if (heldLock is null || spool.TryLoadHeld(name) is not { } held) return;
        var content = SpooledContent.InFile(spool.HeldContentPath(name));
        var context = new ProcessingContext(held, content, policies.Current, MessageHeaders.Read(content), time);
        var lifetime = options.Value.Spool.MaximumLifetime;
        var reply = $"550 5.7.10 no certificate became known within {Counted.Duration(lifetime)} (Spool:MaximumLifetime)";
        var returned = held.Recipients.Where(r => r.Status == RecipientStatus.Held).ToList();
        foreach (var recipient in returned)
        {
            context.Fail(recipient, Outcomes.SmtpReply.Parse(reply),
                "The mail policy requires encryption (or signing) for this recipient, and the certificate it needs did not become known while the gateway held the message; it was not sent.",
                $"{reply}; {recipient.Reply}");
        }
        // The report first: one that cannot be queued (a full disk) keeps the copy for the next round, with nothing audited twice.
        try
        {
            await bounces.SendAsync(context, cancellationToken);
        }
        catch (Exception e) when (context.FailuresToReport.Count == 0 && e is not OperationCanceledException)
        {
            // Queued (or not wanted), and only its audit line failed: the copy goes all the same, or
            // every next round would queue the sender another report.
            LogReportAuditFailed(e, name);
        }
        spool.DeleteHeld(name);
        heldLock.Remove();
        foreach (var recipient in returned)
            await audit.WriteAsync(context.Event("failed") with { Recipient = recipient.Address, Action = "failed", Reply = reply, Status = $"hold/{name}" }, cancellationToken);
    }

    [LoggerMessage(EventId = 5304, Level = LogLevel.Error, Message = "The report returning held copy {Name} was queued but could not be audited; the copy is removed all the same")]
    private partial void LogReportAuditFailed(Exception exception, string name);

    [LoggerMessage(EventId = 5301, Level = LogLevel.Warning, Message = "Held copy {Name} could be released but was not: {Problem}")]
    private partial void LogReleaseFailed(string name, string problem);

    [LoggerMessage(EventId = 5302, Level = LogLevel.Error, Message = "Held copies could not be looked at again; next round after Spool:HeldRecheckInterval")]
    private partial void LogRecheckFailed(Exception exception);

    [LoggerMessage(EventId = 5303, Level = LogLevel.Error, Message = "Held copy {Name} could not be looked at again; the others were, and it is tried next round")]
    private partial void LogCopyFailed(Exception exception, string name);
}
