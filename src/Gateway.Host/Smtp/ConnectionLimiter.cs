using System.Collections.Concurrent;
using System.Net;

namespace Gateway.Smtp;

/// <summary>Counts open connections per client address, like Postfix's smtpd_client_connection_count_limit.</summary>
internal sealed class ConnectionLimiter(int limit)
{
    private readonly ConcurrentDictionary<IPAddress, int> _open = new();

    /// <summary>Takes a slot for the client; false (and nothing taken) when it already has <c>limit</c> connections.</summary>
    public bool TryAcquire(IPAddress client)
    {
        while (true)
        {
            var current = _open.GetOrAdd(client, 0);
            if (current >= limit) return false;
            if (_open.TryUpdate(client, current + 1, current)) return true;
        }
    }

    public void Release(IPAddress client)
    {
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
