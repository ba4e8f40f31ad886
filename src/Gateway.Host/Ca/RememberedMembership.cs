using System.Text.Json;

namespace Gateway.Ca;

/// <summary>
/// The group's member list as last read, kept in the CA's folder (group-members.json) so that a
/// gateway restarted during a directory outage still knows who the members were, within
/// Ca:EligibleGroup:StaleMembershipMaxAge, instead of making every group sender wait. Tied to the
/// group's directory and DN: a list of another group is never used. An unreadable file is ignored.
/// </summary>
internal sealed class RememberedMembership(string folder, string group)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { WriteIndented = true };
    private readonly string _path = Path.Combine(folder, "group-members.json");

    /// <summary>
    /// The list saved, unless it is of another group, unreadable in any way, or dated after
    /// <paramref name="now"/> (a clock set back, a restored snapshot): its age could then never
    /// pass StaleMembershipMaxAge.
    /// </summary>
    public (GroupMembership Members, DateTimeOffset ReadAt)? Load(DateTimeOffset now)
    {
        try
        {
            if (!File.Exists(_path)) return null;
            var saved = JsonSerializer.Deserialize<Saved>(File.ReadAllBytes(_path), Json);
            if (saved?.Addresses is null || saved.Group is null || !string.Equals(saved.Group, group, StringComparison.OrdinalIgnoreCase)) return null;
            if (saved.ReadAt > now + ClockSkew) return null;
            return (GroupMembership.Read(saved.Addresses.ToHashSet(StringComparer.OrdinalIgnoreCase)), saved.ReadAt);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return null;
        }
    }

    private static readonly TimeSpan ClockSkew = TimeSpan.FromMinutes(5);

    /// <summary>Best effort: the list in memory is what counts while the process runs.</summary>
    public bool TrySave(GroupMembership members, DateTimeOffset readAt)
    {
        try
        {
            Directory.CreateDirectory(folder);
            var saved = new Saved(group, readAt, members.Addresses.Order(StringComparer.Ordinal).ToList());
            PrivateFiles.Write(_path, JsonSerializer.SerializeToUtf8Bytes(saved, Json));
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private sealed record Saved(string Group, DateTimeOffset ReadAt, List<string> Addresses);
}
