namespace Gateway.Pipeline;

/// <summary>
/// At most Spool:MaxConcurrentTransforms copies made at once: parsed, signed, encrypted, with their
/// intermediate copies. The workers are many so that copies an upstream sits on do not stop
/// delivery (Spool:Workers follows Relay:MaxConnections, up to 256); making a copy is CPU and
/// memory work, which that many at once on a few cores did no sooner, each holding a few times
/// its message meanwhile. A slot covers the making alone, never the relaying: a worker waiting
/// for the upstream's reply holds no slot and no intermediate copy.
/// </summary>
public sealed class TransformSlots(int count)
{
    private readonly SemaphoreSlim _slots = new(count, count);

    public int Count => count;

    /// <summary>Waits for a slot; disposing what it returns gives the slot back.</summary>
    public async Task<IDisposable> EnterAsync(CancellationToken cancellationToken)
    {
        await _slots.WaitAsync(cancellationToken);
        return new Slot(_slots);
    }

    private sealed class Slot(SemaphoreSlim slots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) == 0) slots.Release();
        }
    }
}
