using System.Runtime.InteropServices;
using Gateway.Pipeline;

namespace Gateway.Smtp;

/// <summary>
/// Smtp:MaxConnections as the process can hold it. Each connection is a file descriptor, and a
/// process out of them cannot open its spool, journal or audit log; the runtime aborts when it
/// cannot start a thread ("Out of memory."). So the cap is lowered, with a warning, to what the
/// open-file limit leaves after delivery's own (<see cref="DeliveryDescriptors"/>) and
/// <see cref="Reserve"/> for everything else (assemblies, spool, journal, the certificate cache,
/// the HTTP endpoints' 64 connections each), shared by the listeners. .NET raises the soft limit to
/// the hard one at start, so the hard limit is what counts.
/// </summary>
internal static partial class ConnectionCap
{
    internal const int Reserve = 512;

    /// <summary>What each listener (the SMTP port, and the inbound endpoint's when it is on) may hold, read from this process's limit.</summary>
    public static Listeners For(Configuration.GatewayOptions options)
    {
        var limit = OpenFileLimit();
        var listeners = options.Harvest.Enabled ? 2 : 1;
        var delivery = DeliveryDescriptors.For(options);
        return new Listeners(For(options.Smtp.MaxConnections, listeners, delivery, limit, out var lowered), lowered, limit, listeners, delivery);
    }

    /// <summary>
    /// Why `gateway run` refuses to start, naming the settings; null when the limit holds them. A
    /// gateway that started anyway would run out of descriptors when delivery is busiest.
    /// </summary>
    public static string? Refusal(Configuration.GatewayOptions options)
    {
        var listeners = For(options);
        if (listeners.Fits) return null;
        var (spool, relay) = (options.Spool, options.Relay);
        return $"the process may open {listeners.OpenFileLimit} files (its open-file limit, e.g. LimitNOFILE), and delivery alone may hold {listeners.Delivery}: " +
               $"Gateway:Relay:MaxConnections {relay.MaxConnections}, {DeliveryDescriptors.PerWorker} per worker (Gateway:Spool:Workers {spool.EffectiveWorkers(relay)}), " +
               $"{Spool.WorkFiles.PerTransform} per copy made at once (Gateway:Spool:MaxConcurrentTransforms {spool.EffectiveTransforms(relay)}); with {Reserve} kept for the spool, journal and the rest " +
               $"and one connection per SMTP listener, at least {listeners.Needed} are needed: raise the limit or lower those settings";
    }

    /// <summary>The cap per listener, whether it is below Smtp:MaxConnections, and what it was worked out from.</summary>
    public readonly record struct Listeners(int Cap, bool Lowered, long? OpenFileLimit, int Count, int Delivery)
    {
        /// <summary>
        /// Whether the limit holds delivery, the reserve and a connection per listener. When it does
        /// not, the listeners still get one each, but delivery may run out of descriptors.
        /// </summary>
        public bool Fits => OpenFileLimit is not { } limit || limit - Reserve - Delivery >= Count;

        /// <summary>The open-file limit these settings need at least.</summary>
        public long Needed => Reserve + Delivery + Count;
    }

    /// <summary>
    /// The cap for each of <paramref name="listeners"/> listeners when delivery holds up to
    /// <paramref name="delivery"/> descriptors; <paramref name="lowered"/> when below <paramref name="configured"/>.
    /// </summary>
    public static int For(int configured, int listeners, int delivery, long? openFileLimit, out bool lowered)
    {
        var fits = openFileLimit is { } limit ? Math.Max(1, (limit - Reserve - delivery) / listeners) : long.MaxValue;
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
