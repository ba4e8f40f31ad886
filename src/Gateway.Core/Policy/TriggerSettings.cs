namespace Gateway.Policy;

/// <summary>
/// The marks a user can put on a message to make encryption required for it: a subject tag such
/// as "[secure]" (case-insensitive, anywhere in the subject) and/or a header such as
/// "X-Gateway-Encrypt: yes". Only senders matching <see cref="AllowedSenders"/> may use them;
/// for anyone else the marks are ignored (the header is still removed, see <see cref="TriggerStripper"/>).
/// </summary>
public sealed record TriggerSettings(
    string? SubjectTag,
    string? HeaderName,
    string? HeaderValue,
    IReadOnlyList<AddressPattern> AllowedSenders)
{
    public bool MayUse(string sender) => AllowedSenders.Any(p => p.Matches(sender));

    /// <summary>Which mark was used, e.g. <c>subject tag "[secure]"</c>; null when none was, or the sender may not use them.</summary>
    public string? Detect(string sender, MessageFacts facts)
    {
        if (!MayUse(sender)) return null;
        // Any Subject field counts (fail closed): the stripper removes the tag from each of them.
        if (SubjectTag is not null && facts.SubjectFields.Prepend(facts.Subject ?? "").Any(s => s.Contains(SubjectTag, StringComparison.OrdinalIgnoreCase)))
            return $"subject tag \"{SubjectTag}\"";
        if (HeaderName is not null)
        {
            foreach (var (name, value) in facts.Headers)
            {
                if (string.Equals(name, HeaderName, StringComparison.OrdinalIgnoreCase) &&
                    string.Equals(value.Trim(), HeaderValue, StringComparison.OrdinalIgnoreCase))
                    return $"header \"{HeaderName}: {HeaderValue}\"";
            }
        }
        return null;
    }
}
