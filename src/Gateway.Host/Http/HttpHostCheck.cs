using System.Net;
using System.Net.Sockets;

namespace Gateway.Http;

/// <summary>
/// Which hosts a request may name, against DNS rebinding: a web page on attacker.example whose name
/// is made to resolve to the gateway's address can have a browser fetch the endpoint, but the
/// browser still sends <c>Host: attacker.example</c>. Allowed: an IP literal, <c>localhost</c>, the
/// name in the prefix (when it has one) and the names the settings add. A request without Host
/// (HTTP/1.0; no browser sends one) has nothing to misdirect and is let through.
/// </summary>
internal sealed class HttpHostCheck
{
    private readonly HashSet<string> _names = new(StringComparer.OrdinalIgnoreCase) { "localhost" };

    public HttpHostCheck(HttpPrefix prefix, IEnumerable<string> allowed)
    {
        if (prefix.HostName is { } name) _names.Add(name.TrimEnd('.'));
        foreach (var host in allowed) _names.Add(host.TrimEnd('.'));
    }

    public bool Allows(HttpRequestHead head)
    {
        var host = head.Authority;
        return host is null || IsIpLiteral(HostOf(host)) || _names.Contains(HostOf(host).TrimEnd('.'));
    }

    /// <summary>The host of an authority: without its port, an IPv6 literal with its brackets.</summary>
    private static string HostOf(string authority)
    {
        var end = authority.StartsWith('[') ? authority.IndexOf(']') + 1 : authority.IndexOf(':');
        return end <= 0 ? authority : authority[..end];
    }

    private static bool IsIpLiteral(string host) => host.StartsWith('[') && host.EndsWith(']')
        ? IPAddress.TryParse(host[1..^1], out var v6) && v6.AddressFamily == AddressFamily.InterNetworkV6
        : IPAddress.TryParse(host, out var v4) && v4.AddressFamily == AddressFamily.InterNetwork;
}
