namespace Gateway.Spool;

/// <summary>
/// Exclusive ownership of one spool entry across processes: the worker holds it while it
/// processes the entry, <c>gateway queue</c> while it holds, releases, retries or deletes it.
/// .NET maps FileShare.None to flock(LOCK_EX|LOCK_NB) on Linux, which conflicts between processes
/// and between two handles in one process, and is dropped by the kernel if the holder dies.
/// </summary>
public sealed class EntryLock : IDisposable
{
    private readonly FileStream _stream;
    private readonly string _path;

    private EntryLock(FileStream stream, string path)
    {
        _stream = stream;
        _path = path;
    }

    /// <summary>Null when someone else holds the entry.</summary>
    public static EntryLock? TryAcquire(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".lock");
        try
        {
            return new EntryLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1), path);
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>Waits up to <paramref name="timeout"/> for a worker to finish its attempt.</summary>
    public static async Task<EntryLock?> AcquireAsync(string folder, string name, TimeSpan timeout, CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var entryLock = TryAcquire(folder, name);
            if (entryLock is not null || DateTime.UtcNow >= deadline) return entryLock;
            await Task.Delay(100, cancellationToken);
        }
    }

    /// <summary>
    /// Removes the lock file while still holding it, for an entry that is gone. Whoever opened the
    /// old file meanwhile locks an unlinked inode, so every holder checks after locking that its
    /// entry still exists.
    /// </summary>
    public void Remove()
    {
        try { File.Delete(_path); } catch (IOException) { }
    }

    public void Dispose() => _stream.Dispose();
}
