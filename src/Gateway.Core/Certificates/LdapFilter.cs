using System.Text;

namespace Gateway.Certificates;

/// <summary>
/// Builds an LDAP search filter from the operator's template and an address from the envelope.
/// The address is untrusted input: every character that means something in a filter is escaped
/// as RFC 4515 §3 demands, so "*)(mail=*" is searched for literally and cannot widen the search.
/// </summary>
public static class LdapFilter
{
    public const string Placeholder = "{0}";

    public static string Escape(string value)
    {
        var escaped = new StringBuilder(value.Length + 8);
        foreach (var c in value)
        {
            escaped.Append(c switch
            {
                '*' => @"\2a",
                '(' => @"\28",
                ')' => @"\29",
                '\\' => @"\5c",
                '\0' => @"\00",
                _ => c.ToString(),
            });
        }
        return escaped.ToString();
    }

    /// <summary>The template with every "{0}" replaced by the escaped address (no string.Format: braces in a template stay literal).</summary>
    public static string Format(string template, string address) => template.Replace(Placeholder, Escape(address), StringComparison.Ordinal);

    /// <summary>
    /// The template for each spelling of the address, joined with OR when there is more than one:
    /// a directory stores an internationalised domain in one IDN form, and mail may name it in the other.
    /// </summary>
    public static string FormatAny(string template, IReadOnlyList<string> spellings) => spellings.Count == 1
        ? Format(template, spellings[0])
        : "(|" + string.Concat(spellings.Select(s => Format(template, s))) + ")";

    /// <summary>Null when the template is usable, otherwise why not (for the settings validator).</summary>
    public static string? Problem(string? template)
    {
        if (string.IsNullOrWhiteSpace(template)) return "must not be empty";
        if (!template.Contains(Placeholder, StringComparison.Ordinal)) return $"must contain {Placeholder} where the address goes, e.g. (mail={Placeholder})";
        if (!template.StartsWith('(') || !template.EndsWith(')')) return "must be a filter in parentheses, e.g. (mail={0})";
        var depth = 0;
        foreach (var c in template)
        {
            depth += c == '(' ? 1 : c == ')' ? -1 : 0;
            if (depth < 0) return "has unbalanced parentheses";
        }
        return depth == 0 ? null : "has unbalanced parentheses";
    }
}
