using System.Text.Json;

namespace Gateway.Spool;

/// <summary>
/// The hold folder and the moves between it and incoming/, always by copying: content first
/// (fsynced), the envelope last as commit marker, the source removed only afterwards. A crash
/// leaves the old entry, or both (a possible duplicate), never an envelope without content.
/// </summary>
public sealed partial class FileSpool
{
    /// <summary>Parks a copy of the original for the held recipients: hold/ID-N.eml with its own envelope.</summary>
    /// <param name="waitsFor">
    /// What the copy waits for when it may go out by itself (<see cref="SpoolEnvelope.WaitsFor"/>).
    /// Its recipients are marked <see cref="SpoolRecipient.HoldReported"/>: the entry it comes from owes the sender the notice.
    /// </param>
    public Task<string> HoldAsync(SpoolEnvelope envelope, SpooledContent content, IReadOnlyList<SpoolRecipient> recipients, string reason, CancellationToken cancellationToken,
        string? waitsFor = null) =>
        CopyToHoldAsync(envelope, content, FreeHoldName(envelope),
            recipients.Select(r => Held(r.With(RecipientStatus.Held, reason, attempts: 0), reported: r.HoldReported || waitsFor is not null)).ToList(), cancellationToken, waitsFor);

    private static SpoolRecipient Held(SpoolRecipient copy, bool reported)
    {
        copy.HoldReported = reported;
        return copy;
    }

    /// <summary>
    /// ID-N, N the attempt's number or the first free one after it. A copy already there is never
    /// written over, or its recipients would be held nowhere: attempts count from 0 again after an
    /// admin's hold and release, and one attempt can hold twice (the policy's hold, then a failure's).
    /// Only the worker holding the entry's lock parks copies of it, so nobody takes the name meanwhile.
    /// </summary>
    private string FreeHoldName(SpoolEnvelope envelope)
    {
        for (var n = Math.Max(1, envelope.Attempts); ; n++)
        {
            var name = $"{envelope.Id}-{n}";
            if (!File.Exists(Path.Combine(Hold, name + ".json")) && !File.Exists(HeldContentPath(name))) return name;
        }
    }

    /// <summary>
    /// Copies an entry to hold/NAME with the given recipients: content first (fsynced), the
    /// envelope last, so hold/ never shows an envelope without its content.
    /// </summary>
    public Task<string> CopyToHoldAsync(SpoolEnvelope envelope, SpooledContent content, string name, List<SpoolRecipient> recipients, CancellationToken cancellationToken,
        string? waitsFor = null)
    {
        cancellationToken.ThrowIfCancellationRequested();
        var held = envelope.With(envelope.Id, recipients);
        held.WaitsFor = waitsFor;
        Directory.CreateDirectory(Hold);
        try
        {
            using (var input = content.OpenRead()) DurableFile.WriteAll(HeldContentPath(name), input);
            DurableFile.Replace(Path.Combine(Hold, name + ".json"), JsonSerializer.SerializeToUtf8Bytes(held, SpoolJson.Options));
        }
        catch
        {
            DeleteHeldContentWithoutEnvelope(name);
            throw;
        }
        return Task.FromResult(name);
    }

    /// <summary>
    /// Content in hold/ without its envelope is nobody's: no listing shows it (<see cref="EntryNames"/>),
    /// no command reaches it, and it is plaintext mail. One with an envelope is a held copy, left alone.
    /// </summary>
    private void DeleteHeldContentWithoutEnvelope(string name)
    {
        if (!File.Exists(Path.Combine(Hold, name + ".json"))) TryDelete(HeldContentPath(name));
    }

    public string HeldContentPath(string name) => Path.Combine(Hold, name + ".eml");

    public SpoolEnvelope? TryLoadHeld(string name)
    {
        try
        {
            return JsonSerializer.Deserialize<SpoolEnvelope>(File.ReadAllBytes(Path.Combine(Hold, name + ".json")), SpoolJson.Options);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Removes a held copy: envelope first, so a crash in between leaves no envelope without content.</summary>
    public void DeleteHeld(string name)
    {
        File.Delete(Path.Combine(Hold, name + ".json"));
        File.Delete(HeldContentPath(name));
        DurableFile.SyncDirectory(Hold);
    }

    /// <summary>Names (ID or ID-N) of the entries in a folder that have an envelope, oldest first.</summary>
    public static IReadOnlyList<string> EntryNames(string folder) =>
        Directory.Exists(folder)
            ? Directory.EnumerateFiles(folder, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToList()
            : [];

    /// <summary>Re-queues released content as a new incoming entry: content copied and fsynced, then the envelope as commit marker.</summary>
    public async Task AdmitAsync(string heldContent, SpoolEnvelope envelope, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(Incoming);
        File.Copy(heldContent, ContentPath(envelope.Id), overwrite: false);
        await using (var stream = new FileStream(ContentPath(envelope.Id), FileMode.Open, FileAccess.ReadWrite)) stream.Flush(flushToDisk: true);
        Save(envelope);
    }
}
