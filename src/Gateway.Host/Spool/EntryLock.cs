using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Spool;

/// <summary>
/// Exclusive ownership of one spool entry across processes: the worker holds it while it
/// processes the entry, <c>gateway queue</c> while it holds, releases, retries or deletes it.
/// An explicit flock(LOCK_EX|LOCK_NB): it conflicts between processes and between two handles in
/// one process, and the kernel drops it if the holder dies. Explicit because the gateway turns
/// off .NET's implicit flock on every file it opens (System.IO.DisableFileLocking in the project:
/// two flock calls per open, on every spool file, for nothing).
/// </summary>
public sealed partial class EntryLock : IDisposable
{
    private const int LockExclusive = 2, NonBlocking = 4;
    private readonly SafeFileHandle _handle;
    private readonly string _path;

    private EntryLock(SafeFileHandle handle, string path)
    {
        _handle = handle;
        _path = path;
    }

    /// <summary>Null when someone else holds the entry.</summary>
    public static EntryLock? TryAcquire(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".lock");
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (IOException)
        {
            return null; // where .NET's own locking is on (Windows, tests): a holder's handle refuses ours
        }
        if (OperatingSystem.IsWindows() || Flock(handle, LockExclusive | NonBlocking) == 0) return new EntryLock(handle, path);
        handle.Dispose();
        return null;
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

    public void Dispose() => _handle.Dispose();

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);
}
