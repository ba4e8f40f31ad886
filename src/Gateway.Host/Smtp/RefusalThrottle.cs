using System.Net;

namespace Gateway.Smtp;

/// <summary>
/// Connections refused before the greeting are written to the audit log and the log once a minute
/// per client address and reason; those left out in that minute are counted on a line of their own
/// when it is over (<see cref="RunAsync"/>), and at the stop. Any host that can reach the port can
/// be refused: one refused 3,000 times a second wrote 770 KB of audit log a second, and a full
/// audit disk stops all mail (Gateway accepts none it cannot audit). Past <see cref="MaxTracked"/>
/// addresses in a minute (a spread of addresses), refusals are counted per reason alone, under the
/// client "*", so the table stays small.
/// </summary>
internal sealed class RefusalThrottle(TimeProvider time)
{
    public static readonly TimeSpan Window = TimeSpan.FromMinutes(1);

    internal const int MaxTracked = 4096;
    internal const string AnyClient = "*";

    private readonly Dictionary<(string Client, string Reason), Entry> _entries = [];

    private sealed class Entry(ConnectionRefusal refusal, DateTimeOffset written)
    {
        public ConnectionRefusal Refusal { get; } = refusal;
        public DateTimeOffset Written { get; set; } = written;
        public int LeftOut { get; set; }
    }

    /// <summary>A count of refusals left out of the audit: for <see cref="Client"/> (or <see cref="AnyClient"/>), with this refusal.</summary>
    public sealed record LeftOut(string Client, ConnectionRefusal Refusal, int Count);

    /// <summary>True when this refusal is written now; false when it is counted for later.</summary>
    public bool Admit(IPAddress client, ConnectionRefusal refusal)
    {
        var now = time.GetUtcNow();
        lock (_entries)
        {
            var address = client.ToString();
            var key = _entries.Count >= MaxTracked && !_entries.ContainsKey((address, refusal.Reason)) ? (AnyClient, refusal.Reason) : (address, refusal.Reason);
            if (!_entries.TryGetValue(key, out var entry))
            {
                // The "*" entry writes no line of its own: its first refusal is counted like the rest.
                var anyClient = key.Item1 == AnyClient;
                _entries[key] = new Entry(refusal, now) { LeftOut = anyClient ? 1 : 0 };
                return !anyClient;
            }
            entry.LeftOut++;
            return false;
        }
    }

    /// <summary>
    /// The counts of the minutes that are over (all of them at the stop), the table cleared of
    /// them: a client refused again after its minute is written again.
    /// </summary>
    public IReadOnlyList<LeftOut> Due(bool all = false)
    {
        var now = time.GetUtcNow();
        var due = new List<LeftOut>();
        lock (_entries)
        {
            foreach (var (key, entry) in _entries.Where(e => all || now - e.Value.Written >= Window).ToList())
            {
                _entries.Remove(key);
                if (entry.LeftOut > 0) due.Add(new LeftOut(key.Client, entry.Refusal, entry.LeftOut));
            }
        }
        return due;
    }

    /// <summary>Writes the counts every minute until the stop, then the rest.</summary>
    public async Task RunAsync(Action<LeftOut> write, CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(Window, time);
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) foreach (var count in Due()) write(count);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        foreach (var count in Due(all: true)) write(count);
    }

    /// <summary>The audit line's status for a count of refusals left out.</summary>
    public static string Status(int leftOut) => $"{Gateway.Counted.Of(leftOut, "more refusal", "more refusals")} for the same reason within a minute of the last line, not written one by one";
}
