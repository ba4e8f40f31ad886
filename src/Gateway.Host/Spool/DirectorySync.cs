namespace Gateway.Spool;

/// <summary>
/// Group commit for the names in one folder: an fsync of a directory makes durable every entry
/// created or renamed in it before the fsync began, so sessions accepting at the same time can
/// share one. A caller returns once an fsync that began after its call has finished; the first
/// caller with no fsync running does it, the others wait for it or for the next one. Each fsync
/// of the spool folder is a cache flush of the disk, and concurrent sessions each asked for one.
/// </summary>
public sealed class DirectorySync(Action flush)
{
    private readonly object _gate = new();
    private long _requested;
    private long _durable;
    private TaskCompletionSource? _running;

    public static DirectorySync For(string directory) => new(() => DurableFile.SyncDirectory(directory));

    /// <summary>Returns when everything named in the folder before this call is durable.</summary>
    public async Task SyncAsync()
    {
        long ticket;
        lock (_gate) ticket = ++_requested;
        while (true)
        {
            Task wait;
            TaskCompletionSource flushing;
            long covers;
            lock (_gate)
            {
                if (_durable >= ticket) return;
                if (_running is not null)
                {
                    wait = _running.Task;
                    flushing = null!;
                    covers = 0;
                }
                else
                {
                    // Every caller up to here renamed its entry before this fsync begins.
                    flushing = _running = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                    covers = _requested;
                    wait = null!;
                }
            }
            if (wait is not null)
            {
                // Someone else's fsync failing is not ours: the loop looks again and, if this caller
                // is still not covered, it does an fsync of its own and meets its own error.
                try { await wait; } catch (Exception) { }
                continue;
            }
            try
            {
                flush();
            }
            catch (Exception e)
            {
                lock (_gate) _running = null;
                flushing.SetException(e);
                throw;
            }
            lock (_gate)
            {
                _durable = Math.Max(_durable, covers);
                _running = null;
            }
            flushing.SetResult();
            return;
        }
    }
}
