namespace Gateway.Relay;

/// <summary>An upstream as configured: Relay:Host first, then each Relay:FallbackHosts entry ("host" or "host:port").</summary>
public sealed record UpstreamHost(string Name, int Port)
{
    public override string ToString() => $"{Name}:{Port}";

    /// <summary>Relay:Host, then each Relay:FallbackHosts entry (checked at start).</summary>
    public static IReadOnlyList<UpstreamHost> AllOf(Gateway.Configuration.RelayOptions relay) =>
        [new UpstreamHost(relay.Host, relay.Port), .. relay.FallbackHosts.Select(h => TryParse(h, relay.Port, out var host) ? host : throw new FormatException(h))];

    public static bool TryParse(string text, int defaultPort, out UpstreamHost host)
    {
        host = null!;
        var value = text.Trim();
        var port = defaultPort;
        string name;
        if (value.StartsWith('['))
        {
            var close = value.IndexOf(']');
            if (close < 0) return false;
            name = value[1..close];
            var rest = value[(close + 1)..];
            if (rest.Length > 0 && (!rest.StartsWith(':') || !int.TryParse(rest[1..], out port))) return false;
        }
        else if (value.Count(c => c == ':') == 1)
        {
            var colon = value.IndexOf(':');
            name = value[..colon];
            if (!int.TryParse(value[(colon + 1)..], out port)) return false;
        }
        else name = value; // a name, or a bare IPv6 address without a port
        if (name.Length == 0 || name.Any(char.IsWhiteSpace) || port is < 1 or > 65535) return false;
        host = new UpstreamHost(name, port);
        return true;
    }
}
