using System.Net;

namespace Gateway.Smtp;

/// <summary>
/// Connections refused before the greeting are written to the audit log and the log once a minute
/// per client address and reason; the next line written says how many were left out. Any host that
/// can reach the port can be refused: one refused 3,000 times a second wrote 770 KB of audit log a
/// second, and a full audit disk stops all mail (Gateway accepts none it cannot audit). Past
/// <see cref="MaxTracked"/> addresses in a minute (a spread of addresses), refusals are counted
/// per reason alone, so the table stays small.
/// </summary>
internal sealed class RefusalThrottle(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    internal const int MaxTracked = 4096;
    private const string AnyClient = "*";

    private readonly Dictionary<(string Client, string Reason), Entry> _entries = [];

    private sealed class Entry
    {
        public DateTimeOffset Written;
        public int LeftOut;
    }

    /// <summary>Null when this refusal is left out; otherwise how many like it were left out since the last line written.</summary>
    public int? Admit(IPAddress client, string reason)
    {
        var now = time.GetUtcNow();
        lock (_entries)
        {
            if (_entries.Count >= MaxTracked)
            {
                foreach (var stale in _entries.Where(e => now - e.Value.Written >= Window).Select(e => e.Key).ToList()) _entries.Remove(stale);
            }
            var key = (_entries.Count >= MaxTracked ? AnyClient : client.ToString(), reason);
            if (!_entries.TryGetValue(key, out var entry))
            {
                _entries[key] = new Entry { Written = now };
                return 0;
            }
            if (now - entry.Written < Window)
            {
                entry.LeftOut++;
                return null;
            }
            var leftOut = entry.LeftOut;
            entry.Written = now;
            entry.LeftOut = 0;
            return leftOut;
        }
    }

    /// <summary>The audit line's status for a refusal admitted after <paramref name="leftOut"/> others; null for none.</summary>
    public static string? Status(int leftOut) => leftOut == 0 ? null : $"{Gateway.Counted.Of(leftOut, "more refusal", "more refusals")} for the same reason in the last minute or more, not written";
}
