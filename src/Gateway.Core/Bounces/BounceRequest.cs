namespace Gateway.Bounces;

/// <summary>Everything a non-delivery report names about the original message; never its body.</summary>
public sealed record BounceRequest(
    string ReportingMta,
    string SpoolId,
    string OriginalSender,
    DateTimeOffset ArrivalDate,
    IReadOnlyList<FailedRecipient> Recipients,
    Stream OriginalMessage);
