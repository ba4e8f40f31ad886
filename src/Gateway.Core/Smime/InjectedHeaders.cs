using System.Text;
using Gateway.Policy;
using MimeKit;

namespace Gateway.Smime;

/// <summary>
/// RFC 9788 header protection, applied to the Cryptographic Payload (the entity that is then
/// signed, or encrypted, or both) before the cryptography. The message's header fields are copied
/// into the payload's header section ("Injected Headers") and its Content-Type says so:
/// <c>hp="clear"</c> for a copy that is only signed, <c>hp="cipher"</c> for one that is encrypted.
/// An encrypted copy records what its outside shows in <c>HP-Outer</c> fields, so the reader can
/// tell which fields were kept confidential; under <see cref="HeaderProtection.HideSubject"/> (the
/// RFC's hcp_baseline) its outside shows <c>Subject: [...]</c> and no Keywords or Comments, and its
/// text begins with the real Subject (<see cref="LegacyDisplay"/>) for clients that do not read
/// protected headers: Outlook, and Thunderbird for S/MIME as of 2026.
/// </summary>
/// <remarks>
/// Trace and authentication fields (Received, DKIM-Signature, Authentication-Results, …) are not
/// copied: MTAs added them on the way, they describe the transport and not what the sender wrote,
/// and the inbound side ignores the copies anyway. A client that protected the headers itself
/// (an <c>hp</c> or <c>protected-headers</c> parameter) is left alone.
/// </remarks>
internal static class InjectedHeaders
{
    public const string Parameter = "hp";
    public const string OuterField = "HP-Outer";
    public const string ObscuredSubject = "[...]";

    /// <summary>Fields that are not the composer's, or that describe the part itself.</summary>
    private static readonly HashSet<string> NotCopied = new(StringComparer.OrdinalIgnoreCase)
    {
        "MIME-Version", OuterField, "Received", "Return-Path", "Delivered-To", "X-Original-To",
        "Authentication-Results", "Received-SPF", "DKIM-Signature", "ARC-Seal", "ARC-Message-Signature",
        "ARC-Authentication-Results", "Bcc", "Resent-Bcc",
    };

    /// <summary>
    /// Dropped from the outside: they say what the mail is about, as the Subject does. hcp_baseline
    /// names Keywords and Comments; Outlook and Exchange write the Subject again as Thread-Topic,
    /// which would show it to every server a copy passes.
    /// </summary>
    private static readonly HashSet<string> DroppedOutside = new(StringComparer.OrdinalIgnoreCase) { "Keywords", "Comments", "Thread-Topic" };

    /// <returns>What was done, for the audit (see <see cref="Outcome"/>).</returns>
    public static Outcome Apply(MimeMessage message, MimeEntity payload, bool encrypting, HeaderProtection protection)
    {
        if (protection == HeaderProtection.None) return Outcome.None;
        if (payload.ContentType.Parameters.Contains(Parameter) || payload.ContentType.Parameters.Contains("protected-headers"))
            return new Outcome(false, false, "header protection left as the client wrote it");

        var copied = message.Headers.Where(h => !h.Field.StartsWith("Content-", StringComparison.OrdinalIgnoreCase) && !NotCopied.Contains(h.Field)).ToList();
        // The payload's own fields of these names would be read as the protected ones: ours replace them.
        foreach (var field in payload.Headers.Where(h => h.Field.Equals(OuterField, StringComparison.OrdinalIgnoreCase) || copied.Any(c => c.Field.Equals(h.Field, StringComparison.OrdinalIgnoreCase))).ToList())
            payload.Headers.Remove(field);
        for (var i = 0; i < copied.Count; i++) payload.Headers.Insert(i, Copy(copied[i]));
        payload.ContentType.Parameters[Parameter] = encrypting ? "cipher" : "clear";
        if (!encrypting) return new Outcome(true, false, null);

        var hide = protection == HeaderProtection.HideSubject;
        var subject = message.Subject;
        var hidden = false;
        var at = copied.Count;
        foreach (var header in copied)
        {
            if (hide && DroppedOutside.Contains(header.Field))
            {
                // No HP-Outer for a field the outside lacks: its absence is the record (RFC 9788 §2.2).
                message.Headers.Remove(header);
                continue;
            }
            if (hide && header.Id == HeaderId.Subject)
            {
                header.Value = ObscuredSubject;
                hidden = true;
            }
            payload.Headers.Insert(at++, Outer(header));
        }
        if (!hidden) return new Outcome(true, false, null);
        var shown = LegacyDisplay.Add(payload, subject ?? string.Empty);
        return new Outcome(true, true, shown ? null : "no text part to show the hidden Subject in for clients that do not read protected headers");
    }

    /// <summary>
    /// The field as the outside has it, byte for byte (encoded words, folds); a value in raw 8-bit
    /// (RFC 6532) is written again as encoded words, since what is signed travels 7-bit.
    /// </summary>
    private static Header Copy(Header header) =>
        Ascii.IsValid(header.RawValue) ? header.Clone() : new Header(Encoding.UTF8, header.Field, header.Value);

    /// <summary>"HP-Outer: Name: value", the value as <see cref="Copy"/> writes it.</summary>
    private static Header Outer(Header outside)
    {
        if (!Ascii.IsValid(outside.RawValue)) return new Header(Encoding.UTF8, OuterField, $"{outside.Field}: {outside.Value}");
        var record = new Header(OuterField, string.Empty);
        var name = Encoding.ASCII.GetBytes($" {outside.Field}:");
        var value = outside.RawValue;
        var raw = new byte[name.Length + value.Length];
        name.CopyTo(raw, 0);
        value.CopyTo(raw, name.Length);
        record.SetRawValue(raw);
        return record;
    }

    /// <param name="Protected">The header fields were copied into the payload.</param>
    /// <param name="SubjectHidden">The outside shows <see cref="ObscuredSubject"/>.</param>
    /// <param name="Note">What the audit line should say besides, or null.</param>
    public readonly record struct Outcome(bool Protected, bool SubjectHidden, string? Note)
    {
        public static Outcome None { get; } = new(false, false, null);
    }
}
