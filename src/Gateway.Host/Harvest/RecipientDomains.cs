using Gateway.Mail;
using Gateway.Policy;

namespace Gateway.Harvest;

/// <summary>
/// The domains the inbound endpoint takes mail for (Harvest:Domains), in the policy's pattern
/// forms: <c>example.com</c>, <c>*.example.com</c> (its subdomains), or <c>*</c> (any). Not set:
/// any, as before the setting existed, with a warning at start: an upgraded gateway must not start
/// refusing its company's inbound mail.
/// </summary>
internal sealed class RecipientDomains
{
    private readonly List<AddressPattern> _patterns;

    public RecipientDomains(IReadOnlyList<string>? patterns)
    {
        _patterns = [];
        foreach (var text in patterns ?? [])
            if (AddressPattern.TryParse(text, out var pattern, out _)) _patterns.Add(pattern!); // validated at start (IsDomainPattern)
    }

    /// <summary>True when no domain is listed: every recipient is taken.</summary>
    public bool Unset => _patterns.Count == 0;

    public bool Includes(string address) => Unset || _patterns.Any(p => p.Matches(address));

    /// <summary>The recipient's domain as the refusal names it (ASCII form, so the reply stays ASCII).</summary>
    public static string DomainOf(string address) => DomainName.Ascii(MailAddress.Parse(address).Domain);

    /// <summary>What a Harvest:Domains entry may be: a domain, its subdomains, or any; not an address or the null sender.</summary>
    public static bool IsDomainPattern(string text) =>
        AddressPattern.TryParse(text, out var pattern, out _)
        && pattern!.Kind is AddressPattern.PatternKind.Domain or AddressPattern.PatternKind.Subdomains or AddressPattern.PatternKind.Any;
}
