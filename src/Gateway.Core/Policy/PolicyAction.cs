namespace Gateway.Policy;

/// <summary>The complete, compiled action of a rule (absent fields already filled from the default).</summary>
public sealed record PolicyAction(
    SignMode Sign,
    EncryptMode Encrypt,
    MissingCertificateAction MissingCertificate,
    CryptoSettings Crypto);
