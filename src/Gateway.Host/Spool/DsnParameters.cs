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
        var ret = Get("RET")?.ToUpperInvariant();
        if (ret is not ("FULL" or "HDRS")) ret = null;
        // The listener refuses a malformed ENVID or RET at MAIL (Smtp.MailParameters); this keeps
        // anything else that makes these parameters from putting a bad one into a report.
        if (envelopeId is { Length: > Xtext.MaxEnvelopeId } || (envelopeId is not null && !Xtext.IsPrintableXtext(envelopeId))) envelopeId = null;
        if (recipients is not null && recipients.All(r => r is null)) recipients = null;
        return envelopeId is null && ret is null && recipients is null ? null : new DsnParameters(envelopeId, ret, recipients);
    }

    /// <summary>What the recipient at <paramref name="index"/> of the list asked.</summary>
    public RecipientDsn? For(int index) => Recipients is { } all && index < all.Count ? all[index] : null;
}
