namespace Gateway.Smtp;

/// <summary>
/// Which MAIL FROM addresses we accept: any when no sender domains are configured; otherwise an
/// address in one of them (exact domain, case-insensitive), or listed (address or domain) in the
/// exceptions. The null sender (bounces) is always accepted.
/// </summary>
internal sealed class SenderRule(IReadOnlyList<string>? domains, IReadOnlyList<string>? exceptions)
{
    private readonly HashSet<string> _domains = new(domains ?? [], StringComparer.OrdinalIgnoreCase);
    private readonly HashSet<string> _exceptions = new(exceptions ?? [], StringComparer.OrdinalIgnoreCase);

    public bool Allows(string address)
    {
        if (_domains.Count == 0 || address.Length == 0) return true;
        var at = address.LastIndexOf('@');
        var domain = at < 0 ? string.Empty : address[(at + 1)..];
        return _domains.Contains(domain) || _exceptions.Contains(address) || _exceptions.Contains(domain);
    }
}
