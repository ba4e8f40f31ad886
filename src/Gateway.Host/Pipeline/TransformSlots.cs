namespace Gateway.Pipeline;

/// <summary>
/// At most Spool:MaxConcurrentTransforms copies made at once: parsed, signed, encrypted, with their
/// intermediate copies. The workers are many so that copies an upstream sits on do not stop
/// delivery (Spool:Workers follows Relay:MaxConnections, up to 256); making a copy is CPU and
/// memory work, which that many at once on a few cores did no sooner, each holding a few times
/// its message meanwhile. A slot covers the making alone, never the relaying: a worker waiting
/// for the upstream's reply holds no slot and no intermediate copy.
/// <para>
/// Copies of large messages (made through spool/work) take one slot less than there are: a burst
/// of them, each signed and encrypted for seconds, would otherwise hold every slot and make a small
/// message wait for all of them, where before it only shared the CPU with them.
/// </para>
/// </summary>
public sealed class TransformSlots(int count)
{
    private readonly SemaphoreSlim _slots = new(count, count);
    private readonly SemaphoreSlim _largeSlots = new(Math.Max(1, count - 1), Math.Max(1, count - 1));

    public int Count => count;

    /// <summary>Waits for a slot; disposing what it returns gives the slot back.</summary>
    /// <param name="large">A copy made through spool/work rather than in memory.</param>
    public async Task<IDisposable> EnterAsync(bool large, CancellationToken cancellationToken)
    {
        // Always the large slot first, then one of all: no two waiters hold one each and wait for the other's.
        if (large) await _largeSlots.WaitAsync(cancellationToken);
        try
        {
            await _slots.WaitAsync(cancellationToken);
        }
        catch
        {
            if (large) _largeSlots.Release();
            throw;
        }
        return new Slot(_slots, large ? _largeSlots : null);
    }

    private sealed class Slot(SemaphoreSlim slots, SemaphoreSlim? largeSlots) : IDisposable
    {
        private int _released;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _released, 1) != 0) return;
            slots.Release();
            largeSlots?.Release();
        }
    }
}
