namespace Gateway.Testing;

/// <summary>Makes a file readable by its owner only (0600), as Gateway requires of key and password files.</summary>
public static class OwnerOnly
{
    public static string Apply(string path)
    {
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        return path;
    }
}
