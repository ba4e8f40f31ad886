namespace Gateway.Relay;

/// <summary>
/// What the upstream answered in one transaction: to MAIL, to each RCPT (in the order given; null
/// where the command was never sent), and at the end of the data (null when no data was sent).
/// </summary>
internal sealed record TransactionReplies(UpstreamReply Mail, IReadOnlyList<UpstreamReply?> Recipients, UpstreamReply? Data)
{
    /// <summary>The message was accepted for every recipient whose RCPT was.</summary>
    public bool Delivered => Data is { IsPositive: true };

    /// <summary>Why the session ended (or the copy's time did) before the transaction did, when it did: the replies above are those that came.</summary>
    public string? Interruption { get; init; }
}
