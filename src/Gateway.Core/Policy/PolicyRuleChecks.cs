namespace Gateway.Policy;

/// <summary>
/// Finds rules that can never decide anything because an earlier rule already matches every
/// envelope they would match (first match wins). Such a rule is almost always an ordering
/// mistake: the admin meant the later, more specific rule to apply, and it silently does not.
/// The check is exact for the pattern forms we have, never a guess: a rule is reported only when
/// coverage follows from the patterns themselves.
/// </summary>
internal static class PolicyRuleChecks
{
    public static void Check(IReadOnlyList<PolicyRule> rules, IReadOnlyList<string> paths, List<PolicyError> errors, Func<string, string, PolicyError> at)
    {
        for (var later = 1; later < rules.Count; later++)
        {
            for (var earlier = 0; earlier < later; earlier++)
            {
                if (!Covers(rules[earlier], rules[later])) continue;
                var line = at(paths[earlier], "").Line;
                var duplicate = Covers(rules[later], rules[earlier]) && rules[earlier].Action == rules[later].Action && rules[earlier].Triggered == rules[later].Triggered;
                errors.Add(at(paths[later] + ".name", duplicate
                    ? $"rule \"{rules[later].Name}\" duplicates rule \"{rules[earlier].Name}\" (line {line}): same matches, same action; remove one"
                    : $"rule \"{rules[later].Name}\" can never match: rule \"{rules[earlier].Name}\" (line {line}) comes first and matches every message it would; move the more specific rule up"));
                break;
            }
        }
    }

    /// <summary>True when every (sender, recipient, triggered) that <paramref name="b"/> matches is matched by <paramref name="a"/>.</summary>
    public static bool Covers(PolicyRule a, PolicyRule b) =>
        (!a.Triggered || b.Triggered) && Covers(a.Senders, b.Senders) && Covers(a.Recipients, b.Recipients);

    private static bool Covers(IReadOnlyList<AddressPattern> a, IReadOnlyList<AddressPattern> b)
    {
        if (a.Count == 0 || a.Any(p => p.Kind == AddressPattern.PatternKind.Any)) return true;
        if (b.Count == 0) return false;
        return b.All(q => a.Any(p => Covers(p, q)));
    }

    private static bool Covers(AddressPattern a, AddressPattern b)
    {
        // Compared in the ASCII form matching uses, so "bücher.example" covers "xn--bcher-kva.example".
        const StringComparison Ignore = StringComparison.OrdinalIgnoreCase;
        return a.Kind switch
        {
            AddressPattern.PatternKind.Any => true,
            AddressPattern.PatternKind.NullSender => b.Kind == AddressPattern.PatternKind.NullSender,
            AddressPattern.PatternKind.Address => b.Kind == AddressPattern.PatternKind.Address && string.Equals(a.AsciiValue, b.AsciiValue, Ignore),
            AddressPattern.PatternKind.Domain => b.Kind switch
            {
                AddressPattern.PatternKind.Domain => string.Equals(a.AsciiValue, b.AsciiValue, Ignore),
                AddressPattern.PatternKind.Address => string.Equals(a.AsciiValue, DomainOf(b.AsciiValue), Ignore),
                _ => false,
            },
            AddressPattern.PatternKind.Subdomains => b.Kind switch
            {
                // a.AsciiValue keeps its leading dot: ".example.com".
                AddressPattern.PatternKind.Subdomains => b.AsciiValue.EndsWith(a.AsciiValue, Ignore),
                AddressPattern.PatternKind.Domain => b.AsciiValue.EndsWith(a.AsciiValue, Ignore) && b.AsciiValue.Length > a.AsciiValue.Length,
                AddressPattern.PatternKind.Address => DomainOf(b.AsciiValue).EndsWith(a.AsciiValue, Ignore) && DomainOf(b.AsciiValue).Length > a.AsciiValue.Length,
                _ => false,
            },
            _ => false,
        };
    }

    private static string DomainOf(string address) => address[(address.LastIndexOf('@') + 1)..];
}
