namespace Gateway.Pipeline;

public enum TreatmentKind
{
    /// <summary>Relay a copy (signed and/or encrypted as the treatment says, or as it came).</summary>
    Deliver,
    /// <summary>Do not relay; fail the recipient with a 5.7.x reason.</summary>
    Refuse,
    /// <summary>Do not relay; park the original until the missing certificate is known (or an admin decides).</summary>
    Hold,
    /// <summary>Do not relay yet: a certificate source could not be asked; try again at the next attempt.</summary>
    Defer,
}
