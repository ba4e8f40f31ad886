namespace Gateway.Mail;

/// <summary>
/// RFC 3461 NOTIFY: which delivery status notifications the client asked for a recipient.
/// <see cref="Never"/> stands alone; the others combine. A recipient without NOTIFY gets what
/// an MTA sends by default: failures and delays (<see cref="DsnNotifyExtensions.Asks"/>).
/// </summary>
[Flags]
public enum DsnNotify
{
    Never = 1,
    Success = 2,
    Failure = 4,
    Delay = 8,
}

public static class DsnNotifyExtensions
{
    /// <summary>Whether a report of <paramref name="condition"/> goes to the sender; null is a recipient without NOTIFY.</summary>
    public static bool Asks(this DsnNotify? notify, DsnNotify condition) =>
        notify is { } asked ? (asked & condition) != 0 : condition is DsnNotify.Failure or DsnNotify.Delay;

    /// <summary>The NOTIFY value as written on the wire: "NEVER", or "SUCCESS,FAILURE,DELAY" in that order.</summary>
    public static string ToParameter(this DsnNotify notify)
    {
        if ((notify & DsnNotify.Never) != 0) return "NEVER";
        var parts = new List<string>(3);
        if ((notify & DsnNotify.Success) != 0) parts.Add("SUCCESS");
        if ((notify & DsnNotify.Failure) != 0) parts.Add("FAILURE");
        if ((notify & DsnNotify.Delay) != 0) parts.Add("DELAY");
        return string.Join(',', parts);
    }
}
