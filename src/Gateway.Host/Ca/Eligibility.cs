namespace Gateway.Ca;

public enum EligibilityStatus { Eligible, NotEligible, Unknown }

/// <summary>Whether a sender may be enrolled, and why; Unknown when the group directory could not be asked.</summary>
public sealed record Eligibility(EligibilityStatus Status, string Reason);
