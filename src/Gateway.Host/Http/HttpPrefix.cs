using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Http;

/// <summary>
/// A prefix as the settings write it, in HttpListener's form: <c>http://HOST:PORT/PATH/</c>, where
/// HOST is <c>+</c> or <c>*</c> for every address, an IP address (IPv6 in brackets: <c>[::1]</c>),
/// or a name (resolved at start); PORT is 80 when left out, as in any http:// URL. Only requests
/// under PATH are answered. <see cref="Parse"/> is the one rule for both endpoints' settings: the
/// validator refuses at start what it refuses, so a prefix that starts is one the server can read.
/// </summary>
internal sealed record HttpPrefix(string Host, int Port, string Path)
{
    /// <exception cref="FormatException">Why the prefix cannot be served, with the prefix quoted.</exception>
    public static HttpPrefix Parse(string prefix)
    {
        const string scheme = "http://";
        if (!prefix.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || !prefix.EndsWith('/'))
            throw new FormatException($"'{prefix}' must start with http:// and end with /");
        var rest = prefix[scheme.Length..];
        var slash = rest.IndexOf('/');
        var path = rest[slash..];
        // A request's path never holds these: a prefix with one would answer nothing.
        if (path.IndexOfAny(['?', '#', ' ']) >= 0) throw new FormatException($"'{prefix}' must not have ?, # or a space in its path");
        var (host, port) = Authority(prefix, rest[..slash]);
        return new HttpPrefix(host, port, path);
    }

    private static (string Host, int Port) Authority(string prefix, string authority)
    {
        string host, portText;
        if (authority.StartsWith('['))
        {
            var close = authority.IndexOf(']');
            host = close < 0 ? "" : authority[1..close];
            portText = close < 0 ? "" : authority[(close + 1)..];
            if (!IPAddress.TryParse(host, out var address) || address.AddressFamily != AddressFamily.InterNetworkV6 || portText.Length > 0 && portText[0] != ':')
                throw new FormatException($"'{prefix}' must write an IPv6 address as [ADDRESS] or [ADDRESS]:PORT");
        }
        else
        {
            var colon = authority.IndexOf(':');
            host = colon < 0 ? authority : authority[..colon];
            portText = colon < 0 ? "" : authority[colon..];
            if (portText.LastIndexOf(':') > 0) throw new FormatException($"'{prefix}' must write an IPv6 address in brackets ([::1])");
            if (host is not ("+" or "*") && Uri.CheckHostName(host) is not (UriHostNameType.Dns or UriHostNameType.IPv4))
                throw new FormatException($"'{prefix}' must name a host: + (or *) for all addresses, an IP address or a name");
        }
        if (portText.Length == 0) return (host, 80);
        if (!int.TryParse(portText.AsSpan(1), NumberStyles.None, CultureInfo.InvariantCulture, out var port) || port is < 1 or > 65535)
            throw new FormatException($"'{prefix}' must have a port from 1 to 65535 after the host, or none for 80");
        return (host, port);
    }

    /// <summary>Whether two prefixes as the settings write them name one port (false when either is malformed: refused elsewhere).</summary>
    public static bool SamePort(string one, string other)
    {
        try
        {
            return Parse(one).Port == Parse(other).Port;
        }
        catch (FormatException)
        {
            return false;
        }
    }

    /// <summary>The name in <see cref="Host"/>, or null when it is an address or every address.</summary>
    public string? HostName => Host is "+" or "*" || IPAddress.TryParse(Host, out _) ? null : Host;

    /// <summary>The address to listen on: every address (IPv6 and IPv4) for + and *, else the host's, IPv4 first.</summary>
    public IPAddress Address()
    {
        if (Host is "+" or "*") return Socket.OSSupportsIPv6 ? IPAddress.IPv6Any : IPAddress.Any;
        if (IPAddress.TryParse(Host, out var address)) return address;
        var addresses = Dns.GetHostAddresses(Host);
        return addresses.FirstOrDefault(a => a.AddressFamily == AddressFamily.InterNetwork)
            ?? addresses.FirstOrDefault()
            ?? throw new FormatException($"'{Host}' has no address");
    }

    /// <summary>
    /// What a request names under <see cref="Path"/>: its last segment ("ca.crl" for /pki/ca.crl
    /// under /pki/ or under /), or null when it is not under it. Query and fragment are ignored.
    /// </summary>
    public string? NameUnder(HttpRequestHead head)
    {
        var target = head.PathAndQuery;
        var end = target.IndexOfAny(['?', '#']);
        if (end >= 0) target = target[..end];
        if (!target.StartsWith(Path, StringComparison.OrdinalIgnoreCase)) return null;
        // The last segment, unescaped, as HttpListener's Url.AbsolutePath gave it: a CRL distribution
        // point already in issued certificates (/pki/ca.crl under the prefix /, %63a.crl) must still
        // resolve. The names are matched against a fixed list, so nothing here reaches a file path.
        var rest = Uri.UnescapeDataString(target[Path.Length..]).TrimEnd('/');
        return rest[(rest.LastIndexOf('/') + 1)..];
    }
}
