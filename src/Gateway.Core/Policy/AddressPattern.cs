using Gateway.Mail;

namespace Gateway.Policy;

/// <summary>
/// One entry of a rule's senders or recipients list: <c>*</c> (anyone), <c>&lt;&gt;</c> (the null
/// sender), <c>user@example.com</c> (one address), <c>example.com</c> (one domain) or
/// <c>*.example.com</c> (its subdomains, not the domain itself). <c>*@example.com</c> and
/// <c>@example.com</c> are other spellings of the domain form. Matching ignores case: admins
/// write policy for mailboxes, not for the bytes of a local part.
/// </summary>
public sealed record AddressPattern(string Text, AddressPattern.PatternKind Kind, string Value)
{
    public enum PatternKind { Any, NullSender, Address, Domain, Subdomains }

    public static bool TryParse(string text, out AddressPattern? pattern, out string? error)
    {
        pattern = null;
        error = null;
        var t = text.Trim();
        if (t == "*") { pattern = new(text, PatternKind.Any, ""); return true; }
        if (t == "<>") { pattern = new(text, PatternKind.NullSender, ""); return true; }
        if (t.Length == 0) { error = "empty pattern"; return false; }
        if (t.Any(char.IsWhiteSpace)) { error = $"'{text}' contains white space"; return false; }
        var at = t.LastIndexOf('@');
        // "*@example.com" is how Postfix and Exchange admins write "every address of example.com":
        // the same as the domain form. Any other '*' in a local part would be a literal that matches
        // nobody, so a rule meant to require encryption would silently never apply.
        if (at > 0 && t[..at] == "*")
        {
            if (TryParse(t[(at + 1)..], out var domain, out _) && domain!.Kind is PatternKind.Domain or PatternKind.Subdomains)
            {
                pattern = domain with { Text = text };
                return true;
            }
            error = $"'{text}' is not a valid pattern: write *@example.com or example.com for every address of a domain, * for anyone";
            return false;
        }
        if (at > 0 && t[..at].Contains('*'))
        {
            error = $"'{text}' has a '*' in its local part: a local part is matched whole; write example.com (or *@example.com) for every address of a domain";
            return false;
        }
        if (at > 0)
        {
            if (!IsDomain(t[(at + 1)..])) { error = $"'{text}' has no valid domain after '@'"; return false; }
            pattern = new(text, PatternKind.Address, t);
            return true;
        }
        if (at == 0) t = t[1..];
        if (t.StartsWith("*.", StringComparison.Ordinal))
        {
            if (!IsDomain(t[2..])) { error = $"'{text}' is not a valid subdomain wildcard (write *.example.com)"; return false; }
            pattern = new(text, PatternKind.Subdomains, t[1..]); // keeps the leading dot
            return true;
        }
        if (!IsDomain(t)) { error = $"'{text}' is not an address, a domain, *.domain, * or <>"; return false; }
        pattern = new(text, PatternKind.Domain, t);
        return true;
    }

    /// <summary>Whether the address matches; domains compare in their ASCII form, so "bücher.example" and "xn--bcher-kva.example" are one domain.</summary>
    public bool Matches(string address)
    {
        var parsed = MailAddress.Parse(address);
        if (Kind is PatternKind.Any) return true;
        if (Kind is PatternKind.NullSender) return parsed.IsNull;
        var domain = DomainName.Ascii(parsed.Domain);
        return Kind switch
        {
            PatternKind.Address => string.Equals($"{parsed.LocalPart}@{domain}", AsciiValue, StringComparison.OrdinalIgnoreCase),
            PatternKind.Domain => domain == AsciiValue,
            PatternKind.Subdomains => domain.EndsWith(AsciiValue, StringComparison.Ordinal) && domain.Length > AsciiValue.Length,
            _ => false,
        };
    }

    /// <summary><see cref="Value"/> with its domain in ASCII form (lower case); derived from it, so equal patterns stay equal.</summary>
    internal string AsciiValue { get; } = Kind switch
    {
        PatternKind.Address => $"{Value[..Value.LastIndexOf('@')]}@{DomainName.Ascii(Value[(Value.LastIndexOf('@') + 1)..])}",
        PatternKind.Subdomains => "." + DomainName.Ascii(Value[1..]),
        PatternKind.Domain => DomainName.Ascii(Value),
        _ => "",
    };

    private static bool IsDomain(string domain)
    {
        if (domain.Length is 0 or > 253) return false;
        foreach (var label in domain.Split('.'))
        {
            if (label.Length is 0 or > 63 || label.StartsWith('-') || label.EndsWith('-')) return false;
            if (!label.All(c => char.IsLetterOrDigit(c) || c == '-' || c > 127)) return false;
        }
        return true;
    }

    public override string ToString() => Text;
}
