namespace Gateway.Policy;

/// <summary>What happens to a recipient whose required certificate (or sender identity) is missing.</summary>
public enum MissingCertificateAction
{
    /// <summary>The recipient is failed with a 5.7.x reason and the sender is told.</summary>
    Refuse,
    /// <summary>The copy is parked in the hold queue until an admin releases or deletes it.</summary>
    Hold,
}
