namespace Gateway.Relay;

/// <summary>
/// The upstream's answer for one recipient, with its reply text for the audit and the DSN.
/// <see cref="DsnPassedOn"/>: the upstream offers DSN, so the client's NOTIFY went with the
/// recipient and reporting its success is the upstream's job from here (RFC 3461 §4.1).
/// <see cref="Upstream"/> and <see cref="Tls"/>: the host that answered and how the session
/// with it was protected ("TLSv1.3 TLS_AES_256_GCM_SHA384", or "none"), as Postfix logs relay=
/// and its TLS line. Upstream is null when no session was reached; Tls also when the session
/// failed before its answer (its state then unknown).
/// </summary>
public sealed record RecipientRelayResult(string Recipient, RelayOutcome Outcome, string Reply, bool DsnPassedOn = false)
{
    public string? Upstream { get; init; }
    public string? Tls { get; init; }

    /// <summary>A refusal, as its code says: 5xx for good, anything else for now.</summary>
    public static RecipientRelayResult Refused(string recipient, int code, string reply) =>
        new(recipient, code >= 500 ? RelayOutcome.Permanent : RelayOutcome.Temporary, reply);
}
