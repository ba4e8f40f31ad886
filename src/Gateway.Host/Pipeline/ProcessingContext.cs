using Gateway.Audit;
using Gateway.Bounces;
using Gateway.Mail;
using Gateway.Outcomes;
using Gateway.Policy;
using Gateway.Spool;

namespace Gateway.Pipeline;

/// <summary>One attempt at one spool entry: its envelope state, the policy snapshot used throughout, and audit helpers.</summary>
public sealed class ProcessingContext(SpoolEnvelope entry, SpooledContent content, PolicySnapshot policy, MessageHeaders headers, TimeProvider time)
{
    public SpoolEnvelope Entry { get; } = entry;
    public PolicySnapshot Policy { get; } = policy;
    public MessageHeaders Headers { get; } = headers;

    /// <summary>The message as spooled (for hold copies and returned content).</summary>
    public SpooledContent Content { get; } = content;

    /// <summary>The bytes every copy is made from: the spooled message, or its copy without trigger marks.</summary>
    public SpooledContent Source { get; set; } = content;

    /// <summary>
    /// Recipients failed and not yet reported, in this attempt or in one a stop cut short (their
    /// <see cref="SpoolRecipient.ReportOwed"/> is saved with their state): the sender gets one report naming them all.
    /// </summary>
    public IReadOnlyList<ReportedRecipient> FailuresToReport => Owed(ReportedRecipient.Failed);

    /// <summary>
    /// Recipients relayed, and not yet reported, whose client asked NOTIFY=SUCCESS of an upstream that
    /// does not offer DSN: the sender gets one "relayed" report naming them all (RFC 3461 §4.1).
    /// </summary>
    public IReadOnlyList<ReportedRecipient> RelaysToReport => Owed(ReportedRecipient.Relayed);

    /// <summary>Recipients held until a certificate is known, whose sender has not been told yet (RFC 3464 "delayed").</summary>
    public IReadOnlyList<ReportedRecipient> HoldsToReport => Owed(ReportedRecipient.Delayed);

    /// <summary>The report about these recipients is queued, or not wanted: it is owed no more.</summary>
    public void Settle(IEnumerable<ReportedRecipient> reported)
    {
        foreach (var recipient in reported)
        {
            foreach (var state in Entry.Recipients.Where(r => r.Address == recipient.Address && r.ReportOwed?.Action == recipient.Action))
                state.ReportOwed = null;
        }
    }

    /// <summary>Every report owed since before <paramref name="cutoff"/>.</summary>
    public IReadOnlyList<ReportedRecipient> OwedSince(DateTimeOffset cutoff) =>
        [.. Owed(ReportedRecipient.Failed, cutoff), .. Owed(ReportedRecipient.Relayed, cutoff), .. Owed(ReportedRecipient.Delayed, cutoff)];

    private List<ReportedRecipient> Owed(string action, DateTimeOffset? before = null) => Entry.Recipients
        .Where(r => r.ReportOwed?.Action == action && (before is null || r.ReportOwed.Since < before))
        .Select(r => new ReportedRecipient(r.Address, SmtpReply.Parse(r.ReportOwed!.Reply), r.ReportOwed.Explanation, action, r.ReportOwed.Until,
            MayReturnContent: r.ReportOwed.MayReturnContent, OriginalRecipient: r.OriginalRecipient, Notify: r.Notify))
        .ToList();

    public AuditEvent Event(string name) => new(name)
    {
        SpoolId = Entry.Id, MessageId = Headers.MessageId, Sender = Entry.MailFrom, PolicyRevision = Policy.Revision,
    };

    public SpoolRecipient Recipient(string address) =>
        Entry.Recipients.First(r => r.IsOpen && string.Equals(r.Address, address, StringComparison.Ordinal));

    /// <summary>The open state of each planned recipient, a different one for an address the envelope lists twice.</summary>
    private List<SpoolRecipient> OpenStates(IEnumerable<PlannedRecipient> planned)
    {
        var taken = new HashSet<SpoolRecipient>(ReferenceEqualityComparer.Instance);
        return planned.Select(p => Entry.Recipients.First(r => r.IsOpen && string.Equals(r.Address, p.Address, StringComparison.Ordinal) && taken.Add(r))).ToList();
    }

    public async Task RecordDecisionsAsync(DeliveryPlan plan, IAuditLog audit, CancellationToken cancellationToken)
    {
        foreach (var recipient in plan.Groups.SelectMany(g => g.Recipients).Concat(plan.Refused).Concat(plan.Held).Concat(plan.Deferred))
        {
            await audit.WriteAsync(Event("decision") with
            {
                Recipient = recipient.Address,
                Rule = recipient.Policy.RuleName,
                Action = recipient.Kind switch
                {
                    TreatmentKind.Refuse => "refuse",
                    TreatmentKind.Hold => "hold",
                    TreatmentKind.Defer => "defer",
                    _ => (recipient.Sign, recipient.Encrypt) switch
                    {
                        (true, true) => "sign+encrypt",
                        (false, true) => "encrypt",
                        (true, false) => "sign",
                        _ => "plain",
                    },
                },
                Reason = recipient.Reason,
                SignerCertificate = recipient.Sign ? plan.Signer?.Selected?.Certificate.Thumbprint : null,
                RecipientCertificates = recipient.Encrypt ? recipient.Certificate!.ForEncryption.Select(c => c.Thumbprint).ToList() : null,
                CertificateSource = recipient.Encrypt ? recipient.Certificate!.Selected!.Source : null,
                RejectedCertificates = Rejections(recipient.Certificate, recipient.Sign || recipient.Kind != TreatmentKind.Deliver ? plan.Signer : null),
            }, cancellationToken);
        }
    }

    private static IReadOnlyList<string>? Rejections(Certificates.CertificateChoice? recipient, Certificates.CertificateChoice? signer)
    {
        var all = (recipient?.Rejected ?? []).Concat(signer?.Rejected ?? []).ToList();
        return all.Count == 0 ? null : all;
    }

    public async Task RefuseAsync(IReadOnlyList<PlannedRecipient> refused, IAuditLog audit, CancellationToken cancellationToken)
    {
        foreach (var recipient in refused)
        {
            var reply = Failures.Reply(recipient.Failure ?? FailureKind.EncryptionCertificateMissing);
            Fail(Recipient(recipient.Address), reply, Explain(recipient.Failure), $"{reply}: {recipient.Reason}");
            await audit.WriteAsync(Event("refused") with
            {
                Recipient = recipient.Address, Rule = recipient.Policy.RuleName, Action = "refused", Reason = recipient.Reason, Reply = reply.ToString(),
            }, cancellationToken);
        }
    }

    /// <param name="returnedAt">When a copy still waiting for a certificate is returned to the sender (Spool:MaximumLifetime after receipt).</param>
    public async Task HoldAsync(IReadOnlyList<PlannedRecipient> held, FileSpool spool, IAuditLog audit, DateTimeOffset returnedAt, CancellationToken cancellationToken)
    {
        if (held.Count == 0) return;
        var reason = string.Join("; ", held.Select(h => h.Reason).Distinct());
        // The policy holds only for a missing certificate (a recipient's, or the sender's signing identity): such a copy goes out by itself once it is known.
        var states = OpenStates(held);
        var name = await spool.HoldAsync(Entry, Content, states, reason, cancellationToken, SpoolEnvelope.Certificate);
        // Every recipient's state first, then the lines (as CopyDelivery does): all of them are in the
        // copy now, and one left open by an audit line that cannot be written would be held again in a
        // second copy by the next attempt, and then released, and delivered, twice.
        foreach (var (recipient, state) in held.Zip(states))
        {
            Update(state, RecipientStatus.Held, $"held as {name}: {recipient.Reason}");
            // The sender is told (RFC 3464 "delayed"), so a held message is never a silent one; once:
            // a recipient held again after its copy was released (another recipient's certificate
            // came) was told of this hold already, and the return date has not changed.
            if (!state.HoldReported)
            {
                state.ReportOwed = new OwedReport(ReportedRecipient.Delayed, "452 4.7.0 held until a certificate is known",
                    HeldExplanation(recipient.Failure), time.GetUtcNow(), Until: returnedAt);
            }
        }
        foreach (var recipient in held)
        {
            await audit.WriteAsync(Event("held") with
            {
                Recipient = recipient.Address, Rule = recipient.Policy.RuleName, Action = "held", Reason = recipient.Reason, Status = $"hold/{name}",
            }, cancellationToken);
        }
    }

    private static string HeldExplanation(FailureKind? failure) => failure switch
    {
        FailureKind.SigningIdentityMissing =>
            "The mail policy requires your messages to this recipient to be signed, and no valid signing certificate is available for your address yet. The gateway holds the message and sends it, signed, as soon as one is; otherwise it is returned to you at the time below.",
        _ =>
            "The mail policy requires encryption for this recipient, and no certificate of theirs is known yet. The gateway holds the message and sends it, encrypted, as soon as one is (a signed message from the recipient, or their certificate given to your mail administrator); otherwise it is returned to you at the time below. You do not need to send it again.",
    };

    /// <summary>Recipients whose certificate lookup could not be made: open, retried with the entry.</summary>
    public async Task DeferAsync(IReadOnlyList<PlannedRecipient> deferred, IAuditLog audit, CancellationToken cancellationToken)
    {
        foreach (var recipient in deferred)
        {
            var reply = Failures.Reply(recipient.Failure ?? FailureKind.CertificateDirectoryUnavailable).ToString();
            Update(Recipient(recipient.Address), RecipientStatus.Deferred, reply);
            await audit.WriteAsync(Event("deferred") with
            {
                Recipient = recipient.Address, Rule = recipient.Policy.RuleName, Action = "deferred", Reason = recipient.Reason, Reply = reply,
            }, cancellationToken);
        }
    }

    /// <summary>Parks every still-open recipient in hold/ with the reason (a message Gateway cannot process).</summary>
    public async Task HoldOpenAsync(string reason, FileSpool spool, IAuditLog audit, CancellationToken cancellationToken)
    {
        var open = Entry.Recipients.Where(r => r.IsOpen).ToList();
        if (open.Count == 0) return;
        var name = await spool.HoldAsync(Entry, Content, open, reason, cancellationToken);
        foreach (var recipient in open) Update(recipient, RecipientStatus.Held, $"held as {name}: {reason}");
        foreach (var recipient in open)
        {
            await audit.WriteAsync(Event("held") with { Recipient = recipient.Address, Action = "held", Reason = reason, Status = $"hold/{name}" }, cancellationToken);
        }
    }

    public Task DeferOpenAsync(string reply, IAuditLog audit, CancellationToken cancellationToken) =>
        CloseOpenAsync(RecipientStatus.Deferred, "deferred", reply, audit, cancellationToken);

    public async Task FailOpenAsync(string reply, string explanation, IAuditLog audit, CancellationToken cancellationToken)
    {
        foreach (var recipient in Entry.Recipients.Where(r => r.IsOpen).ToList())
        {
            var recorded = recipient.Reply is null ? reply : $"{reply}; last error: {recipient.Reply}";
            Fail(recipient, SmtpReply.Parse(reply), explanation, recorded);
            await audit.WriteAsync(Event("failed") with { Recipient = recipient.Address, Action = "failed", Reply = recorded }, cancellationToken);
        }
    }

    /// <param name="mayReturnContent">True only for a copy that was relayed unencrypted (see <see cref="ReportedRecipient.MayReturnContent"/>).</param>
    public void Fail(SpoolRecipient recipient, SmtpReply reply, string explanation, string recorded, bool mayReturnContent = false)
    {
        Update(recipient, RecipientStatus.Failed, recorded);
        recipient.ReportOwed = new OwedReport(ReportedRecipient.Failed, reply.ToString(), explanation, time.GetUtcNow(), mayReturnContent);
    }

    /// <param name="reportSuccess">False when the upstream took the client's NOTIFY with the recipient: reporting success is its job then.</param>
    public void Deliver(SpoolRecipient recipient, string reply, bool reportSuccess)
    {
        Update(recipient, RecipientStatus.Delivered, reply);
        if (reportSuccess && recipient.Notify.Asks(DsnNotify.Success))
            recipient.ReportOwed = new OwedReport(ReportedRecipient.Relayed, reply, "The message was passed on to the next mail server for this recipient.", time.GetUtcNow());
    }

    private static string Explain(FailureKind? failure) => failure switch
    {
        FailureKind.SigningIdentityMissing =>
            "The mail policy requires your messages to this recipient to be signed, but no valid signing certificate is available for your address. Please contact your mail administrator.",
        _ =>
            "The mail policy requires encryption for this recipient, but no valid certificate is known for them, so the message was not sent: it would have left unencrypted. A signed message from the recipient, or their certificate given to your mail administrator, makes encryption possible.",
    };

    public void Update(SpoolRecipient recipient, RecipientStatus status, string reply)
    {
        // A recipient tried again owes no report of its earlier outcome: its next one decides.
        if (status is RecipientStatus.Pending or RecipientStatus.Deferred) recipient.ReportOwed = null;
        recipient.Status = status;
        recipient.Reply = reply;
        recipient.Attempts++;
        recipient.UpdatedAt = time.GetUtcNow();
    }

    private async Task CloseOpenAsync(RecipientStatus status, string name, string reply, IAuditLog audit, CancellationToken cancellationToken)
    {
        foreach (var recipient in Entry.Recipients.Where(r => r.IsOpen).ToList())
        {
            Update(recipient, status, reply);
            await audit.WriteAsync(Event(name) with { Recipient = recipient.Address, Action = name, Reply = reply }, cancellationToken);
        }
    }
}
