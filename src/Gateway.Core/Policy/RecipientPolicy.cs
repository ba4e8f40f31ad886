namespace Gateway.Policy;

/// <summary>
/// The policy's answer for one recipient of one message, before certificates are looked up.
/// <paramref name="Trigger"/> names the user's mark that raised encryption to required, if any.
/// </summary>
public sealed record RecipientPolicy(
    string Recipient,
    string RuleName,
    SignMode Sign,
    EncryptMode Encrypt,
    MissingCertificateAction MissingCertificate,
    CryptoSettings Crypto,
    string? Trigger = null);
