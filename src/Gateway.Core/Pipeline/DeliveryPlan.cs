using Gateway.Certificates;

namespace Gateway.Pipeline;

/// <summary>The whole decision for one message: copies to relay, recipients refused, held, or deferred until a certificate source answers.</summary>
public sealed record DeliveryPlan(
    string PolicyRevision,
    CertificateChoice? Signer,
    IReadOnlyList<DeliveryGroup> Groups,
    IReadOnlyList<PlannedRecipient> Refused,
    IReadOnlyList<PlannedRecipient> Held,
    IReadOnlyList<PlannedRecipient> Deferred);
