namespace Gateway.Spool;

public enum RecipientStatus
{
    /// <summary>Not yet tried, or to be tried again.</summary>
    Pending,
    /// <summary>Tried; the upstream (or a lookup) failed temporarily. Retried at the entry's next attempt.</summary>
    Deferred,
    /// <summary>The upstream said 250 for this recipient. Never sent again.</summary>
    Delivered,
    /// <summary>Failed for good (policy refusal, 5xx, lifetime exceeded).</summary>
    Failed,
    /// <summary>Parked in the hold queue: until a certificate is known (policy holds), or for an admin.</summary>
    Held,
}
