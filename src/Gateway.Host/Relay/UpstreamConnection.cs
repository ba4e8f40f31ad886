namespace Gateway.Relay;

/// <summary>One open, authenticated session with an upstream, owned by one sender at a time.</summary>
internal sealed class UpstreamConnection(UpstreamSession session, UpstreamHost host, DateTimeOffset openedAt) : IDisposable
{
    /// <summary>How long a QUIT may take before the connection is simply closed.</summary>
    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(5);

    public UpstreamSession Session { get; } = session;
    public UpstreamHost Host { get; } = host;
    public DateTimeOffset OpenedAt { get; } = openedAt;
    public DateTimeOffset LastUsed { get; set; } = openedAt;
    public int Messages { get; set; }

    /// <summary>
    /// Closes at once, without QUIT: after an error the connection's state is unknown, and a QUIT
    /// to an upstream that stopped answering would hold the worker for a whole Relay:Timeout.
    /// </summary>
    public void Dispose() => Session.Dispose();

    /// <summary>
    /// QUIT, then close, as a client that is done says goodbye; asynchronous and bounded, never a
    /// blocked thread (a synchronous QUIT held a thread-pool thread for a round trip, or for the
    /// whole Relay:Timeout when the upstream did not answer).
    /// </summary>
    public async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(QuitTimeout);
        try
        {
            await Session.QuitAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or System.Net.Sockets.SocketException
                                      or ObjectDisposedException) // closed meanwhile by the pool's Dispose
        {
            // Closed anyway.
        }
    }
}

/// <summary>An upstream as configured: Relay:Host first, then each Relay:FallbackHosts entry ("host" or "host:port").</summary>
public sealed record UpstreamHost(string Name, int Port)
{
    public override string ToString() => $"{Name}:{Port}";

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
