using Gateway.Mail;

namespace Gateway.Spool;

/// <summary>
/// The RFC 3461 parameters of one transaction: ENVID and RET from MAIL FROM, and each recipient's
/// NOTIFY and ORCPT (<see cref="Recipients"/>, in the order of the recipient list it goes with;
/// null when no recipient had any).
/// </summary>
public sealed record DsnParameters(string? EnvelopeId, string? Return, IReadOnlyList<RecipientDsn?>? Recipients = null)
{
    /// <summary>Null when the client gave no DSN parameter at all.</summary>
    public static DsnParameters? From(IReadOnlyDictionary<string, string> parameters, IReadOnlyList<RecipientDsn?>? recipients = null)
    {
        string? Get(string key) => parameters.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value;
        var envelopeId = Get("ENVID");
        var ret = Get("RET") is { } given && IsReturn(given) ? given.ToUpperInvariant() : null;
        // The listener refuses a malformed ENVID or RET at MAIL (Smtp.MailParameters); this keeps
        // anything else that makes these parameters from putting a bad one into a report.
        if (envelopeId is not null && !IsEnvelopeId(envelopeId)) envelopeId = null;
        if (recipients is not null && recipients.All(r => r is null)) recipients = null;
        return envelopeId is null && ret is null && recipients is null ? null : new DsnParameters(envelopeId, ret, recipients);
    }

    /// <summary>RET: FULL or HDRS, in any case (RFC 3461 §4.3).</summary>
    public static bool IsReturn(string? value) => value?.ToUpperInvariant() is "FULL" or "HDRS";

    /// <summary>ENVID: xtext of printable ASCII, at most 100 characters (RFC 3461 §4.4).</summary>
    public static bool IsEnvelopeId(string value) => value.Length <= Xtext.MaxEnvelopeId && Xtext.IsPrintableXtext(value);

    /// <summary>What the recipient at <paramref name="index"/> of the list asked.</summary>
    public RecipientDsn? For(int index) => Recipients is { } all && index < all.Count ? all[index] : null;
}
