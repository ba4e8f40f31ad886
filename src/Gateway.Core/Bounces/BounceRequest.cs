namespace Gateway.Bounces;

/// <summary>
/// Everything a delivery status notification names about the original message.
/// <see cref="ReturnContent"/> (the client's RET=FULL) attaches the whole original as
/// message/rfc822 instead of its headers; the caller never sets it for policy refusals.
/// <see cref="EnvelopeId"/> is the client's ENVID, xtext-encoded as received.
/// </summary>
public sealed record BounceRequest(
    string ReportingMta,
    string SpoolId,
    string OriginalSender,
    DateTimeOffset ArrivalDate,
    IReadOnlyList<ReportedRecipient> Recipients,
    Stream OriginalMessage,
    string? EnvelopeId = null,
    bool ReturnContent = false);
