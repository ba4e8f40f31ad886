using Gateway.Mail;

namespace Gateway.Spool;

/// <summary>Per-recipient state, recorded before any retry so a retry never resends to a recipient that accepted.</summary>
public sealed class SpoolRecipient
{
    public required string Address { get; init; }
    public RecipientStatus Status { get; set; } = RecipientStatus.Pending;
    public string? Reply { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }

    /// <summary>The client's NOTIFY (RFC 3461); null when it did not say, which asks for failures and delays.</summary>
    public DsnNotify? Notify { get; init; }

    /// <summary>The client's ORCPT as received ("rfc822;" and xtext), echoed in our reports.</summary>
    public string? OriginalRecipient { get; init; }

    /// <summary>The report the sender is still owed for this recipient, until it is queued (or suppressed by NOTIFY).</summary>
    public OwedReport? ReportOwed { get; set; }

    /// <summary>
    /// Held by the policy for a missing certificate, and the sender told so (or owed the telling by
    /// the entry the hold copy came from): held again after a release, it owes no second notice.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingDefault)]
    public bool HoldReported { get; set; }

    public bool IsOpen => Status is RecipientStatus.Pending or RecipientStatus.Deferred;

    /// <summary>The same recipient, with the client's DSN request, in another state (a hold copy, a release).</summary>
    public SpoolRecipient With(RecipientStatus status, string? reply, int attempts) => new()
    {
        Address = Address, Status = status, Reply = reply, Attempts = attempts, Notify = Notify, OriginalRecipient = OriginalRecipient,
        HoldReported = HoldReported,
    };
}
