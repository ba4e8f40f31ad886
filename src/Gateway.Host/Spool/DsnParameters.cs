namespace Gateway.Spool;

/// <summary>
/// The RFC 3461 MAIL FROM parameters the listener lets us read (ENVID, RET). NOTIFY and ORCPT are
/// RCPT parameters, which SmtpServer 11.1 neither parses nor exposes, so they cannot be kept.
/// </summary>
public sealed record DsnParameters(string? EnvelopeId, string? Return)
{
    public static DsnParameters? From(IReadOnlyDictionary<string, string> parameters)
    {
        string? Get(string key) => parameters.FirstOrDefault(p => string.Equals(p.Key, key, StringComparison.OrdinalIgnoreCase)).Value;
        var envelopeId = Get("ENVID");
        var ret = Get("RET")?.ToUpperInvariant();
        if (ret is not ("FULL" or "HDRS")) ret = null;
        // ENVID is xtext, at most 100 characters (RFC 3461 4.4); anything else is not kept.
        if (envelopeId is { Length: > 100 } || envelopeId?.Any(c => c is < '!' or > '~') == true) envelopeId = null;
        return envelopeId is null && ret is null ? null : new DsnParameters(envelopeId, ret);
    }
}
