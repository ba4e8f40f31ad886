namespace Gateway.Spool;

/// <summary>
/// Requests from <c>gateway queue</c> to the running gateway: one file per request in
/// <c>spool/control/</c>, named after the entry to look at again (or <c>all</c>). The CLI changes
/// the spool itself under the entry lock; the file only says "re-read it now" so the change takes
/// effect without waiting for the next scheduled attempt. A gateway that is not running reads the
/// spool at its next start anyway, so a lost request costs nothing.
/// </summary>
public sealed class SpoolControl(FileSpool spool)
{
    public const string All = "all";

    public string Folder => spool.Control;

    public void RequestWake(string name)
    {
        Directory.CreateDirectory(Folder);
        var target = Path.Combine(Folder, name + ".wake");
        var temporary = Path.Combine(Folder, $".{name}.{Guid.NewGuid():N}.tmp");
        File.WriteAllText(temporary, name);
        File.Move(temporary, target, overwrite: true);
    }

    /// <summary>Takes (removes) the pending requests and returns the names they ask about.</summary>
    public IReadOnlyList<string> TakeRequests()
    {
        if (!Directory.Exists(Folder)) return [];
        var names = new List<string>();
        foreach (var file in Directory.EnumerateFiles(Folder, "*.wake"))
        {
            var name = Path.GetFileNameWithoutExtension(file);
            try
            {
                File.Delete(file);
            }
            catch (IOException)
            {
                continue;
            }
            if (name == All || SpoolId.IsValid(name)) names.Add(name);
        }
        return names;
    }
}
