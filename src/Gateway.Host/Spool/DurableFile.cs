using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Spool;

/// <summary>
/// fsync for files and for the directory entries that name them. A file's data being on disk
/// is not enough: after a crash the name must be there too, hence the directory fsync (POSIX
/// requires it; ext4 and xfs lose a fresh name without it).
/// </summary>
public static partial class DurableFile
{
    private const int ReadOnly = 0;
    private const int Directory = 0x10000; // O_DIRECTORY on Linux
    private const int CloseOnExec = 0x80000; // O_CLOEXEC on Linux: as .NET opens every file, so no child process started meanwhile holds it

    /// <remarks>
    /// Synchronous on purpose: .NET has no asynchronous file I/O on Linux; its WriteAsync queues the
    /// write to the thread pool, a thread hop per call that cost more than the page-cache write.
    /// </remarks>
    public static void WriteAllBytes(string path, ReadOnlySpan<byte> bytes)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.None);
        stream.Write(bytes);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Copies <paramref name="content"/> to <paramref name="path"/> (created or overwritten) and fsyncs it.</summary>
    public static void WriteAll(string path, Stream content)
    {
        using var stream = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 0, FileOptions.None);
        content.CopyTo(stream);
        stream.Flush(flushToDisk: true);
    }

    /// <summary>Writes to a temporary name, fsyncs, renames over <paramref name="path"/> and fsyncs the directory.</summary>
    /// <param name="syncDirectory">False when the caller fsyncs the directory itself, once for several names.</param>
    public static void Replace(string path, ReadOnlySpan<byte> bytes, bool syncDirectory = true)
    {
        var temporary = path + ".tmp";
        try
        {
            WriteAllBytes(temporary, bytes);
            File.Move(temporary, path, overwrite: true);
        }
        catch
        {
            // A full disk must not leave a half-written temporary behind.
            try { File.Delete(temporary); } catch (IOException) { }
            throw;
        }
        if (syncDirectory) SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
    }

    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) return;
        var fd = Open(directory, ReadOnly | (OperatingSystem.IsLinux() ? Directory | CloseOnExec : 0));
        if (fd < 0) throw new IOException($"cannot open directory {directory} to fsync it (errno {Marshal.GetLastPInvokeError()})");
        try
        {
            if (Fsync(fd) != 0) throw new IOException($"fsync of directory {directory} failed (errno {Marshal.GetLastPInvokeError()})");
        }
        finally
        {
            _ = Close(fd);
        }
    }

    /// <summary>fdatasync on Linux (the data and the size, not the times), fsync on macOS; nothing else has it here.</summary>
    public static void SyncData(SafeFileHandle handle)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS()) throw new PlatformNotSupportedException("fdatasync");
        var result = OperatingSystem.IsLinux() ? Fdatasync(handle) : FsyncHandle(handle);
        if (result != 0) throw new IOException($"fdatasync failed (errno {Marshal.GetLastPInvokeError()})");
    }

    [LibraryImport("libc", EntryPoint = "fdatasync", SetLastError = true)]
    private static partial int Fdatasync(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int FsyncHandle(SafeFileHandle fd);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
