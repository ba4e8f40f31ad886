namespace Gateway.Spool;

/// <summary>Per-recipient state, recorded before any retry so a retry never resends to a recipient that accepted.</summary>
public sealed class SpoolRecipient
{
    public required string Address { get; init; }
    public RecipientStatus Status { get; set; } = RecipientStatus.Pending;
    public string? Reply { get; set; }
    public int Attempts { get; set; }
    public DateTimeOffset? UpdatedAt { get; set; }

    public bool IsOpen => Status is RecipientStatus.Pending or RecipientStatus.Deferred;
}
