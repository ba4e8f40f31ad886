using Gateway.Certificates;
using Gateway.Outcomes;
using Gateway.Policy;

namespace Gateway.Pipeline;

/// <summary>One recipient with its policy, its certificate (if looked up) and what will happen to it.</summary>
public sealed record PlannedRecipient(
    string Address,
    RecipientPolicy Policy,
    CertificateChoice? Certificate,
    TreatmentKind Kind,
    bool Sign,
    bool Encrypt,
    string Reason,
    FailureKind? Failure = null);
