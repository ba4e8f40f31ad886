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
        // ENVID is xtext of printable ASCII, at most 100 characters (RFC 3461 4.4); anything else is not kept.
        if (envelopeId is { Length: > 100 } || (envelopeId is not null && !Xtext.IsPrintableXtext(envelopeId))) envelopeId = null;
        if (recipients is not null && recipients.All(r => r is null)) recipients = null;
        return envelopeId is null && ret is null && recipients is null ? null : new DsnParameters(envelopeId, ret, recipients);
    }

    /// <summary>What the recipient at <paramref name="index"/> of the list asked.</summary>
    public RecipientDsn? For(int index) => Recipients is { } all && index < all.Count ? all[index] : null;
}
