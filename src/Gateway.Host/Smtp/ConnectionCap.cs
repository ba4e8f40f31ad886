using System.Runtime.InteropServices;

namespace Gateway.Smtp;

/// <summary>
/// Smtp:MaxConnections as the process can hold it. Each connection is a file descriptor, and a
/// process out of them cannot open its spool, journal or audit log; the runtime aborts when it
/// cannot start a thread ("Out of memory."). So the cap is lowered, with a warning, to what the
/// open-file limit leaves after <see cref="Reserve"/> for everything else (assemblies, spool,
/// journal, the certificate cache, the HTTP endpoints' 64 connections each), shared by the
/// listeners. .NET raises the soft limit to the hard one at start, so the hard limit is what counts.
/// </summary>
internal static partial class ConnectionCap
{
    internal const int Reserve = 512;

    /// <summary>What each listener (the SMTP port, and the inbound endpoint's when it is on) may hold, read from this process's limit.</summary>
    public static Listeners For(Configuration.GatewayOptions options)
    {
        var limit = OpenFileLimit();
        var listeners = options.Harvest.Enabled ? 2 : 1;
        return new Listeners(For(options.Smtp.MaxConnections, listeners, limit, out var lowered), lowered, limit, listeners);
    }

    /// <summary>The cap per listener, whether it is below Smtp:MaxConnections, and what it was worked out from.</summary>
    public readonly record struct Listeners(int Cap, bool Lowered, long? OpenFileLimit, int Count);

    /// <summary>The cap for each of <paramref name="listeners"/> listeners; <paramref name="lowered"/> when below <paramref name="configured"/>.</summary>
    public static int For(int configured, int listeners, long? openFileLimit, out bool lowered)
    {
        var fits = openFileLimit is { } limit ? Math.Max(1, (limit - Reserve) / listeners) : long.MaxValue;
        lowered = fits < configured;
        return (int)Math.Min(configured, fits);
    }

    /// <summary>This process's limit on open files (RLIMIT_NOFILE), null where it cannot be read.</summary>
    public static long? OpenFileLimit()
    {
        if (!OperatingSystem.IsLinux()) return null;
        return GetResourceLimit(OpenFilesResource, out var limit) == 0 && (ulong)limit.Current < long.MaxValue ? (long)limit.Current : null;
    }

    private const int OpenFilesResource = 7; // RLIMIT_NOFILE on Linux

    [StructLayout(LayoutKind.Sequential)]
    private struct ResourceLimit
    {
        public nuint Current; // rlim_t: unsigned long
        public nuint Maximum;
    }

    [LibraryImport("libc", EntryPoint = "getrlimit", SetLastError = true)]
    private static partial int GetResourceLimit(int resource, out ResourceLimit limit);
}
