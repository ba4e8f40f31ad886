namespace Gateway.Relay;

public enum RelayOutcome { Accepted, Temporary, Permanent }

/// <summary>
/// The upstream's answer for one recipient, with its reply text for the audit and the DSN.
/// <see cref="DsnPassedOn"/>: the upstream offers DSN, so the client's NOTIFY went with the
/// recipient and reporting its success is the upstream's job from here (RFC 3461 §4.1).
/// </summary>
public sealed record RecipientRelayResult(string Recipient, RelayOutcome Outcome, string Reply, bool DsnPassedOn = false);
