using System.Collections.Concurrent;
using System.Net;

namespace Gateway.Smtp;

/// <summary>
/// Counts open connections per client address, like Postfix's smtpd_client_connection_count_limit,
/// and in all, like its process limit: each connection holds a file descriptor, and a process
/// out of them cannot open its spool, its journal or its certificates any more.
/// </summary>
internal sealed class ConnectionLimiter(int perClient, int total)
{
    private readonly ConcurrentDictionary<IPAddress, int> _open = new();
    private int _total;

    /// <summary>Takes a slot for the client; the refusal (and nothing taken) when it or everyone has too many.</summary>
    public ConnectionRefusal? TryAcquire(IPAddress client)
    {
        if (Interlocked.Increment(ref _total) > total)
        {
            Interlocked.Decrement(ref _total);
            return ConnectionRefusal.TooManyInAll;
        }
        while (true)
        {
            var current = _open.GetOrAdd(client, 0);
            if (current >= perClient)
            {
                Interlocked.Decrement(ref _total);
                return ConnectionRefusal.TooManyConnections;
            }
            if (_open.TryUpdate(client, current + 1, current)) return null;
        }
    }

    public void Release(IPAddress client)
    {
        Interlocked.Decrement(ref _total);
        while (true)
        {
            if (!_open.TryGetValue(client, out var current)) return;
            if (current <= 1)
            {
                if (_open.TryRemove(new KeyValuePair<IPAddress, int>(client, current))) return;
            }
            else if (_open.TryUpdate(client, current - 1, current)) return;
        }
    }
}
