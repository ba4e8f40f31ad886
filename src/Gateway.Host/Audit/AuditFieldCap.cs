namespace Gateway.Audit;

/// <summary>
/// Cuts short the fields whose text comes from a client, a message or an upstream: a Message-ID
/// may be as long as a header (Smtp:MaxHeaderSize) and is copied into the line of every recipient,
/// so one message of 1,000 recipients could write hundreds of megabytes, and a full audit disk
/// stops all mail. 998 characters is the longest line RFC 5322 allows; Gateway's own reasons
/// (policy errors, rejected certificates) may be longer and keep more.
/// </summary>
internal static class AuditFieldCap
{
    public const int TextLimit = 998, ReasonLimit = 4000;
    public const string Marker = "…(truncated)";

    public static AuditEvent Apply(AuditEvent e)
    {
        if (!TooLong(e.MessageId, TextLimit) && !TooLong(e.User, TextLimit) && !TooLong(e.Sender, TextLimit)
            && !TooLong(e.Recipient, TextLimit) && !TooLong(e.Reply, TextLimit) && !TooLong(e.Reason, ReasonLimit)
            && (e.Recipients is null || !e.Recipients.Any(r => TooLong(r, TextLimit))))
            return e; // the usual line: no copy
        return e with
        {
            MessageId = Cut(e.MessageId, TextLimit),
            User = Cut(e.User, TextLimit),
            Sender = Cut(e.Sender, TextLimit),
            Recipient = Cut(e.Recipient, TextLimit),
            Recipients = e.Recipients?.Select(r => Cut(r, TextLimit)!).ToList(),
            Reply = Cut(e.Reply, TextLimit),
            Reason = Cut(e.Reason, ReasonLimit),
        };
    }

    private static bool TooLong(string? text, int limit) => text is not null && text.Length > limit;

    private static string? Cut(string? text, int limit)
    {
        if (!TooLong(text, limit)) return text;
        var keep = limit - Marker.Length;
        if (char.IsHighSurrogate(text![keep - 1])) keep--; // never half a character
        return string.Concat(text.AsSpan(0, keep), Marker);
    }
}
