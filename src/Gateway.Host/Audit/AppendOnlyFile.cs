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

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int OpenNative(string path, int flags, int mode);
}
