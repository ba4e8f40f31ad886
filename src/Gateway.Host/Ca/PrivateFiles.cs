namespace Gateway.Ca;

/// <summary>Key material is written readable by the service user only, and atomically.</summary>
internal static class PrivateFiles
{
    public static void Write(string path, ReadOnlySpan<byte> bytes) => Write(path, bytes, overwrite: true);

    /// <summary>
    /// Writes <paramref name="path"/> only if it does not exist, atomically: false, and nothing
    /// written, when it does (or another process made it first). File.Move without overwrite is a
    /// link(2) on Linux, which fails rather than replace a file that appeared meanwhile.
    /// </summary>
    public static bool WriteNew(string path, ReadOnlySpan<byte> bytes)
    {
        if (File.Exists(path)) return false;
        try
        {
            Write(path, bytes, overwrite: false);
            return true;
        }
        catch (IOException) when (File.Exists(path))
        {
            return false;
        }
    }

    private static void Write(string path, ReadOnlySpan<byte> bytes, bool overwrite)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // A name of its own: the service and a `gateway ca` command may write the same file at once,
        // and .NET's implicit locking, which used to make one of them fail, is off in the gateway.
        var temporary = $"{path}.{Guid.NewGuid():N}.tmp";
        var options = new FileStreamOptions { Mode = FileMode.CreateNew, Access = FileAccess.Write, Share = FileShare.None };
        if (!OperatingSystem.IsWindows()) options.UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite;
        try
        {
            using (var stream = new FileStream(temporary, options))
            {
                stream.Write(bytes);
                stream.Flush(flushToDisk: true);
            }
            File.Move(temporary, path, overwrite);
        }
        catch
        {
            try { File.Delete(temporary); } catch (IOException) { }
            throw;
        }
    }
}
