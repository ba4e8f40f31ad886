using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Audit;

/// <summary>
/// A file opened with O_APPEND, so every write lands at the end even when another process (a
/// `gateway ca` or `gateway queue` command next to the running service) appends to the same
/// file: .NET's FileMode.Append only seeks to the end once, and two writers then overwrite
/// each other's lines.
/// </summary>
internal static partial class AppendOnlyFile
{
    private const int WriteOnly = 0x1, Create = 0x40, Append = 0x400, CloseOnExec = 0x80000;
    private const int OwnerReadWriteGroupRead = 0x1A0; // 0640

    public static SafeFileHandle Open(string path)
    {
        if (!OperatingSystem.IsLinux())
            return File.OpenHandle(path, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete);
        var fd = OpenNative(path, WriteOnly | Create | Append | CloseOnExec, OwnerReadWriteGroupRead);
        if (fd < 0) throw new IOException($"cannot open {path} for appending (errno {Marshal.GetLastPInvokeError()})");
        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// One write (pwritev) per record, given in parts: with O_APPEND the kernel places it at the end,
    /// whatever the offset says, and no other writer's line lands between its parts.
    /// </summary>
    public static void Write(SafeFileHandle handle, IReadOnlyList<ReadOnlyMemory<byte>> parts) => RandomAccess.Write(handle, parts, fileOffset: 0);

    /// <summary>
    /// Whether <paramref name="path"/> still names the file <paramref name="handle"/> has open
    /// (same device and inode): false once it was renamed away (logrotate) or deleted. Where that
    /// cannot be learned, true: the file open stays in use.
    /// </summary>
    public static bool IsStillAt(SafeFileHandle handle, string path)
    {
        if (!OperatingSystem.IsLinux()) return true;
        Span<byte> open = stackalloc byte[StatxSize], atPath = stackalloc byte[StatxSize];
        if (Statx(handle, "", EmptyPath, StatxInode, ref open[0]) != 0) return true;
        if (Statx(CurrentDirectory, path, 0, StatxInode, ref atPath[0]) != 0)
            return Marshal.GetLastPInvokeError() is not (NoSuchFile or NotADirectory);
        return SameFile(open, atPath);
    }

    // struct statx has one layout on every Linux architecture (unlike struct stat).
    private const int StatxSize = 256, InodeOffset = 32, DeviceOffset = 136; // stx_ino; stx_dev_major, stx_dev_minor
    private const int EmptyPath = 0x1000, StatxInode = 0x100; // AT_EMPTY_PATH, STATX_INO
    private const int NoSuchFile = 2, NotADirectory = 20; // ENOENT, ENOTDIR
    private static readonly SafeFileHandle CurrentDirectory = new(-100, ownsHandle: false); // AT_FDCWD

    private static bool SameFile(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b) =>
        a.Slice(InodeOffset, 8).SequenceEqual(b.Slice(InodeOffset, 8)) && a.Slice(DeviceOffset, 8).SequenceEqual(b.Slice(DeviceOffset, 8));

    [LibraryImport("libc", EntryPoint = "statx", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Statx(SafeFileHandle directory, string path, int flags, int mask, ref byte statx);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags, int mode);
}
