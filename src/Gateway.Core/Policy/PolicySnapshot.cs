namespace Gateway.Policy;

/// <summary>
/// An immutable, validated policy. One snapshot is used for the whole processing of a message,
/// and its revision is written into every audit record so a decision can be traced to the file.
/// </summary>
public sealed record PolicySnapshot(string Revision, string Source, IReadOnlyList<PolicyRule> Rules, PolicyAction Default)
{
    public const string DefaultRuleName = "default";

    /// <summary>First matching rule wins; the default answers when none matches.</summary>
    public RecipientPolicy Evaluate(string sender, string recipient)
    {
        foreach (var rule in Rules)
        {
            if (rule.Matches(sender, recipient))
                return new RecipientPolicy(recipient, rule.Name, rule.Action.Sign, rule.Action.Encrypt, rule.Action.MissingCertificate, rule.Action.Crypto);
        }
        return new RecipientPolicy(recipient, DefaultRuleName, Default.Sign, Default.Encrypt, Default.MissingCertificate, Default.Crypto);
    }
}
