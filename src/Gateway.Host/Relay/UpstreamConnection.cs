namespace Gateway.Relay;

/// <summary>One open, authenticated session with an upstream, owned by one sender at a time.</summary>
internal sealed class UpstreamConnection(UpstreamSession session, UpstreamHost host, DateTimeOffset openedAt) : IDisposable
{
    public UpstreamSession Session { get; } = session;
    public UpstreamHost Host { get; } = host;
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
    public Task CloseAsync() => Session.CloseAsync();
}
