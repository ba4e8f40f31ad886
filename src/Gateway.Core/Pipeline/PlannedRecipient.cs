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
    FailureKind? Failure = null)
{
    /// <summary>The algorithms of this recipient's copy: the rule's, its content cipher chosen by <see cref="ContentEncryptionChoice"/> when encrypted.</summary>
    public CryptoSettings Crypto => Encrypt && Certificate is not null ? ContentEncryptionChoice.For(Policy.Crypto, Certificate) : Policy.Crypto;
}
