namespace Gateway.Smime;

/// <summary>
/// A recipient certificate chosen when the message was planned is outside its validity when the
/// copy is made. Thrown, not returned: it can only happen in a race with the clock, and the
/// processor then defers the message, whose next attempt is planned afresh (and refuses or holds
/// the recipient if no valid certificate remains). Plaintext is never the fallback.
/// </summary>
public sealed class CertificateNoLongerValidException(string thumbprint, DateTimeOffset now)
    : InvalidOperationException($"recipient certificate {thumbprint} is not valid at {now:u}; the message is planned again")
{
    public string Thumbprint { get; } = thumbprint;
}
