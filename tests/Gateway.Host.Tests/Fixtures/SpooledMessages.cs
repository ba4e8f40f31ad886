using System.Text;
using System.Text.Json;
using Gateway.Spool;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// Every message the spool took, wherever it is: entries of incoming/ (those with an envelope) and
/// accepted records of the accept journal, done or not (a record stays in its segment until the
/// segment is retired), one per id.
/// </summary>
internal static class SpooledMessages
{
    public sealed record Message(string Id, byte[] Content, JsonElement Envelope)
    {
        public string Text => Encoding.UTF8.GetString(Content);
    }

    public static IReadOnlyList<Message> All(string spoolPath)
    {
        var found = new Dictionary<string, Message>(StringComparer.Ordinal);
        var incoming = Path.Combine(spoolPath, "incoming");
        if (Directory.Exists(incoming))
        {
            foreach (var envelopePath in Directory.EnumerateFiles(incoming, "*.json"))
            {
                var id = Path.GetFileNameWithoutExtension(envelopePath);
                var envelope = JsonDocument.Parse(File.ReadAllBytes(envelopePath)).RootElement.Clone();
                found[id] = new Message(id, File.ReadAllBytes(Path.Combine(incoming, id + ".eml")), envelope);
            }
        }
        foreach (var record in Segments(spoolPath).SelectMany(Records).Where(r => r.Kind == JournalRecord.Accepted))
        {
            var envelope = JsonDocument.Parse(record.Header).RootElement.Clone();
            var id = envelope.GetProperty("id").GetString()!;
            found.TryAdd(id, new Message(id, record.Content, envelope));
        }
        return found.Values.OrderBy(m => m.Id, StringComparer.Ordinal).ToList();
    }

    /// <summary>The segments of a spool's accept journal.</summary>
    public static string[] Segments(string spoolPath)
    {
        var journal = Path.Combine(spoolPath, "journal");
        return Directory.Exists(journal) ? JournalSegmentFile.In(journal).ToArray() : [];
    }

    /// <summary>The whole records of one segment, read as recovery reads them, also while a gateway writes it.</summary>
    public static List<JournalRecord.Entry> Records(string segment)
    {
        using var stream = new FileStream(segment, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        return JournalRecord.ReadAll(stream, JournalSegmentFile.IsKeyed(segment), out _);
    }

    public static Message Find(string spoolPath, string id) =>
        All(spoolPath).SingleOrDefault(m => m.Id == id) ?? throw new Xunit.Sdk.XunitException($"spool {spoolPath} has no message {id}");
}
