namespace Gateway.Policy;

/// <summary>
/// An immutable, validated policy. One snapshot is used for the whole processing of a message,
/// and its revision is written into every audit record so a decision can be traced to the file.
/// </summary>
public sealed record PolicySnapshot(string Revision, string Source, IReadOnlyList<PolicyRule> Rules, PolicyAction Default, TriggerSettings? Triggers = null)
{
    public const string DefaultRuleName = "default";

    public RecipientPolicy Evaluate(string sender, string recipient) => Evaluate(sender, recipient, MessageFacts.Empty);

    /// <summary>
    /// First matching rule wins; the default answers when none matches. A trigger used by an
    /// allowed sender makes encryption required whatever the rule says: the user asked for it,
    /// and the only safe reading of that request is "never in plaintext".
    /// </summary>
    public RecipientPolicy Evaluate(string sender, string recipient, MessageFacts facts)
    {
        var trigger = Triggers?.Detect(sender, facts);
        var rule = Rules.FirstOrDefault(r => r.Matches(sender, recipient, trigger is not null));
        var action = rule?.Action ?? Default;
        var answer = new RecipientPolicy(recipient, rule?.Name ?? DefaultRuleName, action.Sign, action.Encrypt, action.MissingCertificate, action.Crypto);
        return trigger is null ? answer : answer with { Encrypt = EncryptMode.Required, Trigger = trigger };
    }
}
