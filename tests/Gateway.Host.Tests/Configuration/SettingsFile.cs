using System.Text.Json;
using System.Text.Json.Nodes;

namespace Gateway.Tests.Configuration;

/// <summary>
/// Writes flat configuration keys (<c>Gateway:Smtp:Port</c>, <c>...:TrustAnchors:0</c>) as the
/// nested appsettings.json an operator would write, so the real CLI can read them with --config.
/// </summary>
public static class SettingsFile
{
    public static string Write(string path, IReadOnlyDictionary<string, string?> settings)
    {
        var root = new JsonObject();
        foreach (var (key, value) in settings.OrderBy(s => s.Key, StringComparer.Ordinal))
        {
            if (value is null) continue;
            var parts = key.Split(':');
            var node = root;
            foreach (var part in parts[..^1])
            {
                if (node[part] is not JsonObject child) node[part] = child = new JsonObject();
                node = child;
            }
            node[parts[^1]] = value;
        }
        File.WriteAllText(path, ToArrays(root).ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
        return path;
    }

    /// <summary>Objects whose keys are 0..n-1 become arrays, as configuration binds them either way.</summary>
    private static JsonNode ToArrays(JsonNode node)
    {
        if (node is not JsonObject obj) return node.DeepClone();
        var children = obj.Select(p => (p.Key, Value: ToArrays(p.Value!))).ToList();
        var indexes = children.Select(c => int.TryParse(c.Key, out var i) ? i : -1).ToList();
        if (children.Count > 0 && indexes.Order().SequenceEqual(Enumerable.Range(0, children.Count)))
            return new JsonArray(children.OrderBy(c => int.Parse(c.Key, System.Globalization.CultureInfo.InvariantCulture)).Select(c => c.Value).ToArray());
        var result = new JsonObject();
        foreach (var (key, value) in children) result[key] = value;
        return result;
    }
}
