namespace Gateway.Outcomes;

public enum AfterQueueAction
{
    /// <summary>Answered in the SMTP dialogue; nothing was queued.</summary>
    None,
    /// <summary>Kept in the queue and tried again later.</summary>
    Defer,
    /// <summary>The recipient fails for good; the sender is told.</summary>
    Fail,
}
