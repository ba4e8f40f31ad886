namespace Gateway.Relay;

/// <summary>
/// How long one copy may keep its upstream connection, counted from the moment it has one (the
/// wait for a free place in Relay:MaxConnections is the pool's queue, not the upstream's slowness):
/// the session's set-up and the envelope, the copy's bytes at <see cref="MinimumBytesPerSecond"/>,
/// and the wait for the final reply. Every read and write has its own bound as well; this one stops
/// an upstream that answers just often enough never to reach those, a line at a time.
/// </summary>
internal static class CopyDeadline
{
    /// <summary>
    /// The slowest link a copy is still expected to cross: 256 kbit/s, an old ADSL uplink or a
    /// congested VPN. A bound that assumes a faster link defers every attempt of a large copy on a
    /// slower one until the message bounces (a 50 MiB message is ~69 MiB encrypted, 37 minutes at
    /// this rate); one that assumes a slower link only lets a stalled copy keep its connection
    /// longer, and a link on which nothing moves at all is cut by Relay:Timeout on the write.
    /// </summary>
    public const long MinimumBytesPerSecond = 32 * 1024;

    /// <summary>
    /// Relay:Timeouts for everything but the data and its final reply: connect, greeting, EHLO,
    /// STARTTLS and EHLO again, AUTH, the envelope's replies. Five, as the whole copy once had.
    /// </summary>
    private const int CommandsAroundTheData = 5;

    public static TimeSpan For(long size, UpstreamSettings settings) =>
        settings.Timeout * CommandsAroundTheData + TimeSpan.FromSeconds((double)size / MinimumBytesPerSecond) + settings.FinalReplyTimeout;
}
