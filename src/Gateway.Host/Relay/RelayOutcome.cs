namespace Gateway.Relay;

public enum RelayOutcome { Accepted, Temporary, Permanent }

/// <summary>The upstream's answer for one recipient, with its reply text for the audit and the DSN.</summary>
public sealed record RecipientRelayResult(string Recipient, RelayOutcome Outcome, string Reply);
