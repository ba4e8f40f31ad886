using System.Runtime.InteropServices;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Spool;

/// <summary>
/// Exclusive ownership of one spool entry across processes: the worker holds it while it
/// processes the entry, <c>gateway queue</c> while it holds, releases, retries or deletes it.
/// On Linux it is an open-file-description lock (F_OFD_SETLK) on one byte of a single file,
/// locks/entries.lock, at an offset derived from the entry's name: it conflicts between processes
/// and between two opens in one process, the kernel drops it if the holder dies, and no file is
/// created or deleted per message (a lock file per entry was a third of the spool's file
/// creations, and creating files is what a busy spool's file system spends most on).
/// Elsewhere it is a lock file per entry under flock (Windows: FileShare.None), since the gateway
/// turns .NET's implicit flock off (System.IO.DisableFileLocking in the project).
/// </summary>
public sealed partial class EntryLock : IDisposable
{
    private const string SharedFileName = "entries.lock";
    private readonly SafeFileHandle _handle;
    private readonly string? _ownFile;
    private readonly long _offset;

    private EntryLock(SafeFileHandle handle, string? ownFile, long offset)
    {
        _handle = handle;
        _ownFile = ownFile;
        _offset = offset;
    }

    /// <summary>Null when someone else holds the entry; an IOException when the lock itself cannot be taken.</summary>
    public static EntryLock? TryAcquire(string folder, string name) =>
        UsesRangeLocks ? TryAcquireRange(folder, name) : TryAcquireFile(folder, name);

    // struct flock below is the 64-bit layout (a 32-bit off_t could not hold the offsets anyway).
    private static bool UsesRangeLocks => OperatingSystem.IsLinux() && Environment.Is64BitProcess;

    /// <summary>
    /// Creates the shared lock file at start, so that it belongs to the service's user: one made by
    /// a `gateway queue` run as another user first could not be opened for writing by the service.
    /// </summary>
    public static void Prepare(string folder)
    {
        if (!UsesRangeLocks) return;
        Directory.CreateDirectory(folder);
        using var _ = File.OpenHandle(SharedFile(folder), FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
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
    /// The byte of locks/entries.lock that stands for <paramref name="name"/>: 62 bits of its
    /// SHA-256, so two names share a byte with a probability of 2^-62.
    /// </summary>
    public static long OffsetOf(string name) =>
        (long)(BitConverter.ToUInt64(SHA256.HashData(Encoding.UTF8.GetBytes(name)), 0) >> 2);

    public static string SharedFile(string folder) => Path.Combine(folder, SharedFileName);

    /// <summary>
    /// For an entry that is gone: removes its lock file where there is one. Whoever opened the old
    /// file meanwhile locks an unlinked inode, so every holder checks after locking that its entry
    /// still exists.
    /// </summary>
    public void Remove()
    {
        if (_ownFile is null) return;
        try { File.Delete(_ownFile); } catch (IOException) { }
    }

    /// <summary>
    /// Unlocks, then closes. Closing alone is not enough: both kinds of lock belong to the open file
    /// description and last until its last descriptor is closed, and a child process started
    /// meanwhile (by this process: the runtime forks, then execs) holds a copy of every descriptor
    /// until its exec closes them. The entry stayed locked for that while: with processes being
    /// started, a third of immediate re-locks found it held (measured; none after an unlock).
    /// </summary>
    public void Dispose()
    {
        if (_handle.IsClosed) return;
        if (UsesRangeLocks)
        {
            var range = new RecordLock { Type = Unlock, Whence = SeekSet, Start = _offset, Length = 1 };
            Fcntl(_handle, OpenFileDescriptionSetLock, ref range);
        }
        else if (!OperatingSystem.IsWindows())
        {
            Flock(_handle, FlockUnlock);
        }
        _handle.Dispose();
    }

    private static EntryLock? TryAcquireRange(string folder, string name)
    {
        var path = SharedFile(folder);
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        catch (DirectoryNotFoundException)
        {
            Directory.CreateDirectory(folder);
            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);
        }
        var range = new RecordLock { Type = WriteLock, Whence = SeekSet, Start = OffsetOf(name), Length = 1 };
        if (Fcntl(handle, OpenFileDescriptionSetLock, ref range) == 0) return new EntryLock(handle, null, range.Start);
        var errno = Marshal.GetLastPInvokeError();
        handle.Dispose();
        // Only these mean "held by someone else"; anything else (EINVAL from a file system or kernel
        // without OFD locks, ENOLCK) must not look like a busy entry retried every second for ever.
        if (errno is HeldAgain or HeldAccess) return null;
        throw new IOException($"cannot lock spool entry {name} in {path} (fcntl F_OFD_SETLK: errno {errno})");
    }

    private static EntryLock? TryAcquireFile(string folder, string name)
    {
        Directory.CreateDirectory(folder);
        var path = Path.Combine(folder, name + ".lock");
        SafeFileHandle handle;
        try
        {
            handle = File.OpenHandle(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
        }
        catch (IOException)
        {
            return null;
        }
        if (OperatingSystem.IsWindows() || Flock(handle, FlockExclusive | FlockNonBlocking) == 0) return new EntryLock(handle, path, 0);
        handle.Dispose();
        return null;
    }

    private const int FlockExclusive = 2, FlockNonBlocking = 4, FlockUnlock = 8;

    [LibraryImport("libc", EntryPoint = "flock", SetLastError = true)]
    private static partial int Flock(SafeFileHandle fd, int operation);

    private const int OpenFileDescriptionSetLock = 37; // F_OFD_SETLK
    private const int HeldAgain = 11, HeldAccess = 13; // EAGAIN, EACCES
    private const short WriteLock = 1, Unlock = 2; // F_WRLCK, F_UNLCK
    private const short SeekSet = 0;

    /// <summary>struct flock on 64-bit Linux.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct RecordLock
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid; // must be 0 for OFD locks
    }

    [LibraryImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static partial int Fcntl(SafeFileHandle fd, int command, ref RecordLock range);
}
