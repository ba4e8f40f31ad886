namespace Gateway.Smtp;

/// <summary>
/// Which MAIL FROM addresses we accept: any when no sender domains are configured; otherwise an
/// address in one of them (exact domain, case-insensitive, in either IDN form), or listed (address
/// or domain, also written *@domain) in the exceptions. The null sender (bounces) is always accepted.
/// </summary>
internal sealed class SenderRule(IReadOnlyList<string>? domains, IReadOnlyList<string>? exceptions)
{
    private readonly HashSet<string> _domains = new((domains ?? []).Select(Gateway.Mail.DomainName.Ascii), StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _exceptions = new((exceptions ?? []).Select(Ascii), StringComparer.OrdinalIgnoreCase);

    public bool Allows(string address)
    {
        if (_domains.Count == 0 || address.Length == 0) return true;
        var at = address.LastIndexOf('@');
        var domain = at < 0 ? string.Empty : Gateway.Mail.DomainName.Ascii(address[(at + 1)..]);
        return _domains.Contains(domain) || _exceptions.Contains(Ascii(address)) || _exceptions.Contains(domain);
    }

    /// <summary>An address or a domain with its domain in ASCII form; "*@domain" is the domain.</summary>
    private static string Ascii(string addressOrDomain)
    {
        if (addressOrDomain.StartsWith("*@", StringComparison.Ordinal)) addressOrDomain = addressOrDomain[2..];
        var at = addressOrDomain.LastIndexOf('@');
        return at < 0 ? Gateway.Mail.DomainName.Ascii(addressOrDomain) : addressOrDomain[..(at + 1)] + Gateway.Mail.DomainName.Ascii(addressOrDomain[(at + 1)..]);
    }
}
