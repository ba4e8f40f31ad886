using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Gateway.Http;

/// <summary>
/// A prefix as the settings write it, in HttpListener's form: <c>http://HOST:PORT/PATH/</c>, where
/// HOST is <c>+</c> or <c>*</c> for every address, an IP address, or a name (resolved at start);
/// PORT is 80 when left out. Only requests under PATH are answered.
/// </summary>
internal sealed record HttpPrefix(string Host, int Port, string Path)
{
    /// <exception cref="FormatException">Not http://, no / at the end, or a bad port.</exception>
    public static HttpPrefix Parse(string prefix)
    {
        const string scheme = "http://";
        if (!prefix.StartsWith(scheme, StringComparison.OrdinalIgnoreCase) || !prefix.EndsWith('/'))
            throw new FormatException($"'{prefix}' must start with http:// and end with /");
        var rest = prefix[scheme.Length..];
        var slash = rest.IndexOf('/');
        var authority = rest[..slash];
        var colon = authority.LastIndexOf(':');
        if (colon < authority.LastIndexOf(']')) colon = -1; // an IPv6 literal without a port
        var host = (colon < 0 ? authority : authority[..colon]).Trim('[', ']');
        var port = 80;
        if (host.Length == 0 || colon >= 0 && (!int.TryParse(authority[(colon + 1)..], NumberStyles.None, CultureInfo.InvariantCulture, out port) || port > 65535))
            throw new FormatException($"'{prefix}' must name a host (or + for all) and a port");
        return new HttpPrefix(host, port, rest[slash..]);
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
    /// What a request's target names under <see cref="Path"/>: its last segment ("ca.crl" for
    /// /pki/ca.crl under /pki/ or under /), or null when it is not under it. Query and fragment are ignored; an absolute target
    /// (http://host/pki/ca.crl) is taken by its path.
    /// </summary>
    public string? NameUnder(string target)
    {
        if (target.StartsWith("http://", StringComparison.OrdinalIgnoreCase))
        {
            var slash = target.IndexOf('/', "http://".Length);
            target = slash < 0 ? "/" : target[slash..];
        }
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
