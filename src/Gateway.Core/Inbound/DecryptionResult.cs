using System.Security.Cryptography.X509Certificates;

namespace Gateway.Inbound;

/// <summary>
/// The message to pass on (the plaintext when decrypted, else the bytes as they came, our marker
/// header removed in both cases), the certificate whose key opened it, the algorithms and why it
/// was not decrypted, for the audit.
/// </summary>
public sealed record DecryptionResult(DecryptionOutcome Outcome, byte[] Message, X509Certificate2? Key = null, string? Algorithms = null, string? Reason = null);
