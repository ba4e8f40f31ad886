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
        // Every message passes here, and almost none has one: not split into fields for nothing.
        if (!MentionsBcc(headerBlock)) return null;
        var fields = TriggerStripper.SplitFields(headerBlock);
        var kept = fields.Where(f => !IsBcc(TriggerStripper.NameOf(f))).ToList();
        return kept.Count == fields.Count ? null : [.. kept.SelectMany(f => f)];
    }

    /// <summary>Whether "bcc" appears anywhere in the block, in any case.</summary>
    private static bool MentionsBcc(ReadOnlySpan<byte> block)
    {
        for (var at = block.IndexOfAny((byte)'b', (byte)'B'); at >= 0 && at + 2 < block.Length; )
        {
            if ((block[at + 1] | 0x20) == 'c' && (block[at + 2] | 0x20) == 'c') return true;
            var next = block[(at + 1)..].IndexOfAny((byte)'b', (byte)'B');
            at = next < 0 ? -1 : at + 1 + next;
        }
        return false;
    }

    private static bool IsBcc(string name) =>
        string.Equals(name, "Bcc", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "Resent-Bcc", StringComparison.OrdinalIgnoreCase);
}
