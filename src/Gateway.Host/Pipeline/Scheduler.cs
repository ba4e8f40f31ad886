namespace Gateway.Pipeline;

/// <summary>
/// When each deferred entry is due, in memory (the envelope's NextAttempt on disk is the truth;
/// this only avoids scanning the spool). One time per id: scheduling again replaces the old time.
/// </summary>
internal sealed class Scheduler
{
    private readonly PriorityQueue<string, DateTimeOffset> _queue = new();
    private readonly Dictionary<string, DateTimeOffset> _due = new(StringComparer.Ordinal);
    private readonly Lock _lock = new();

    public void Schedule(string id, DateTimeOffset due)
    {
        lock (_lock)
        {
            _due[id] = due;
            _queue.Enqueue(id, due);
        }
    }

    public IReadOnlyList<string> TakeDue(DateTimeOffset now)
    {
        var ready = new List<string>();
        lock (_lock)
        {
            while (_queue.TryPeek(out var id, out var due) && due <= now)
            {
                _queue.Dequeue();
                // A replaced time leaves its old queue item behind: only the current one counts.
                if (_due.TryGetValue(id, out var current) && current == due)
                {
                    _due.Remove(id);
                    ready.Add(id);
                }
            }
        }
        return ready;
    }
}
