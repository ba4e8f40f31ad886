using Gateway.Policy;

namespace Gateway.Mail;

/// <summary>
/// Removes the Bcc and Resent-Bcc fields from the top-level header block before a message leaves,
/// as Postfix's cleanup does (message_drop_headers). The header stays outside an S/MIME envelope,
/// so a Bcc field would name a hidden recipient to every recipient, although each one not named in
/// To or Cc gets an encrypted copy of their own to stay hidden. Clients that submit to Gateway
/// directly (AUTH) leave it in. Every other byte is kept as it was.
/// </summary>
public static class BccFields
{
    /// <returns>The header block without them, or null when it has none.</returns>
    public static byte[]? Drop(ReadOnlySpan<byte> headerBlock)
    {
        var fields = TriggerStripper.SplitFields(headerBlock);
        var kept = fields.Where(f => !IsBcc(TriggerStripper.NameOf(f))).ToList();
        return kept.Count == fields.Count ? null : [.. kept.SelectMany(f => f)];
    }

    private static bool IsBcc(string name) =>
        string.Equals(name, "Bcc", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Resent-Bcc", StringComparison.OrdinalIgnoreCase);
}
