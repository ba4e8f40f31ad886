namespace Gateway.Policy;

/// <summary>A compiled rule. An empty pattern list matches every address; a triggered rule matches only triggered mail.</summary>
public sealed record PolicyRule(
    string Name,
    IReadOnlyList<AddressPattern> Senders,
    IReadOnlyList<AddressPattern> Recipients,
    PolicyAction Action,
    bool Triggered = false)
{
    public bool Matches(string sender, string recipient, bool triggered = false) =>
        (!Triggered || triggered) &&
        (Senders.Count == 0 || Senders.Any(p => p.Matches(sender))) &&
        (Recipients.Count == 0 || Recipients.Any(p => p.Matches(recipient)));
}
