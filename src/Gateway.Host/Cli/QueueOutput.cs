using System.Globalization;
using System.Text.Json;
using Gateway.Mail;
using Gateway.Spool;
using MimeKit;

namespace Gateway.Cli;

/// <summary>How <c>gateway queue list</c> and <c>show</c> print entries, as a table or as JSON.</summary>
internal static class QueueOutput
{
    private static readonly JsonSerializerOptions Json = new(SpoolJson.Options) { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static int List(SpoolAdministration admin, bool json, TextWriter output, TextWriter error)
    {
        var now = DateTimeOffset.UtcNow;
        var (entries, unreadable) = admin.List();
        if (json)
        {
            output.WriteLine(JsonSerializer.Serialize(entries.Select(e => new
            {
                id = e.Name, queue = e.Queue, receivedAt = e.Envelope.ReceivedAt, ageSeconds = (long)(now - e.Envelope.ReceivedAt).TotalSeconds,
                size = e.Envelope.Size, sender = e.Envelope.MailFrom, attempts = e.Envelope.Attempts, nextAttempt = e.Envelope.NextAttempt, waitsFor = e.Envelope.WaitsFor,
                recipients = e.Envelope.Recipients.Select(r => new
                {
                    address = r.Address, status = r.Status, reply = r.Reply, attempts = r.Attempts, notify = r.Notify?.ToParameter(), originalRecipient = r.OriginalRecipient, reportOwed = r.ReportOwed?.Action,
                }),
            }), Json));
            return Unreadable(unreadable, error);
        }
        output.WriteLine($"{"ID",-24} {"QUEUE",-8} {"AGE",8} {"SIZE",9} {"NEXT ATTEMPT",-20} SENDER -> RECIPIENTS");
        foreach (var e in entries)
        {
            var envelope = e.Envelope;
            var next = e.Queue == QueueEntry.HoldQueue ? (envelope.WaitsFor is { } waits ? $"held for {waits}" : "held") : e.Queue == QueueEntry.JournalQueue ? "first attempt" : envelope.NextAttempt is { } n ? (n <= now ? "now" : "in " + Age(n - now)) : "now";
            var recipients = string.Join(", ", envelope.Recipients.Select(r => $"{r.Address} ({r.Status.ToString().ToLowerInvariant()}{(r.ReportOwed is null ? "" : ", report owed")})"));
            output.WriteLine($"{e.Name,-24} {e.Queue,-8} {Age(now - envelope.ReceivedAt),8} {envelope.Size,9} {next,-20} <{envelope.MailFrom}> -> {recipients}");
        }
        output.WriteLine($"{entries.Count} entries ({entries.Count(e => e.Queue == QueueEntry.IncomingQueue)} queued, {entries.Count(e => e.Queue == QueueEntry.HoldQueue)} held, " +
                         $"{entries.Count(e => e.Queue == QueueEntry.JournalQueue)} in their first attempt)" +
                         (unreadable.Count > 0 ? $"; {unreadable.Count} unreadable, named on stderr" : ""));
        return Unreadable(unreadable, error);
    }

    /// <summary>Names each envelope that could not be read; exit 1 when there is one: it needs an admin (its mail waits unseen).</summary>
    private static int Unreadable(IReadOnlyList<UnreadableEntry> unreadable, TextWriter error)
    {
        foreach (var bad in unreadable) error.WriteLine(bad.ToString());
        return unreadable.Count > 0 ? 1 : 0;
    }

    public static async Task<int> ShowAsync(SpoolAdministration admin, string name, bool body, TextWriter output, TextWriter error)
    {
        if (!SpoolId.IsValidName(name))
        {
            await error.WriteLineAsync($"'{name}' is not a queue id");
            return 2;
        }
        var entry = admin.Find(name, out var unreadable);
        if (entry is null)
        {
            await error.WriteLineAsync(unreadable?.ToString() ?? admin.NotQueuedMessage(name));
            return 1;
        }
        await output.WriteLineAsync($"# {entry.Queue}/{entry.Name}");
        await output.WriteLineAsync(JsonSerializer.Serialize(entry.Envelope, Json));
        var path = admin.ContentPath(entry);
        FileStream content;
        try
        {
            content = File.OpenRead(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            await error.WriteLineAsync($"{path}: content cannot be read: {e.Message}");
            return 1;
        }
        await using var _ = content;
        if (body)
        {
            await output.WriteLineAsync("# content");
            await output.FlushAsync();
            using var reader = new StreamReader(content);
            await output.WriteAsync(await reader.ReadToEndAsync());
            return 0;
        }
        await output.WriteLineAsync("# headers (the body is shown only with --body)");
        try
        {
            foreach (var header in await HeaderList.LoadAsync(content)) await output.WriteLineAsync(header.ToString().TrimEnd());
        }
        catch (FormatException e)
        {
            await output.WriteLineAsync($"(header block unreadable: {e.Message})");
        }
        return 0;
    }

    private static string Age(TimeSpan age) =>
        age.TotalDays >= 1 ? $"{(int)age.TotalDays}d{age.Hours}h"
        : age.TotalHours >= 1 ? $"{(int)age.TotalHours}h{age.Minutes}m"
        : age.TotalMinutes >= 1 ? $"{(int)age.TotalMinutes}m{age.Seconds}s"
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Max(0, (int)age.TotalSeconds)}s");
}
