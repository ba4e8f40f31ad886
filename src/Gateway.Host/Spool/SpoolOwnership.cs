namespace Gateway.Spool;

/// <summary>
/// The running gateway's claim on its spool, held from before recovery until the process ends.
/// Recovery deletes what no lock protects: content in incoming/ whose envelope is not written
/// yet, temporary envelopes, work/. A gateway writing a message into its own files holds no entry
/// lock (no other process knows the id yet), so a second gateway started on the same spool would
/// delete mail the first one is accepting, and the first would then answer 250 for it.
/// <para>
/// <c>gateway queue</c> and the other tools never claim it: they run beside the gateway and lock
/// the entries they touch. It is the same record lock as an entry's (<see cref="EntryLock"/>),
/// under a name no entry has, so the kernel drops it when the gateway dies, even by SIGKILL.
/// </para>
/// </summary>
public sealed class SpoolOwnership(FileSpool spool) : IDisposable
{
    private const string LockName = "gateway-instance";
    private readonly object _gate = new();
    private EntryLock? _held;

    /// <summary>What a gateway that finds the spool claimed says before it gives up.</summary>
    public string InUseMessage =>
        $"the spool {spool.Root} is in use by another running gateway (it holds its lock in {spool.Locks}); " +
        "stop that one first, or give this one its own Gateway:Spool:Path";

    /// <returns>False when another gateway holds the spool; true when this one does (again, if it did already).</returns>
    public bool TryClaim()
    {
        lock (_gate)
        {
            _held ??= EntryLock.TryAcquire(spool.Locks, LockName);
            return _held is not null;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            _held?.Dispose();
            _held = null;
        }
    }
}
