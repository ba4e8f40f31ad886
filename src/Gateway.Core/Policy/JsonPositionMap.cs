using System.Text.Json;

namespace Gateway.Policy;

/// <summary>
/// Maps JSON paths such as <c>$.rules[1].senders[0]</c> to line and column, so that errors found
/// after deserialisation still point at the admin's text.
/// </summary>
internal sealed class JsonPositionMap
{
    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);

    public static JsonPositionMap Build(ReadOnlySpan<byte> json, JsonReaderOptions options)
    {
        var map = new JsonPositionMap();
        var lineStarts = new List<int> { 0 };
        for (var i = 0; i < json.Length; i++)
            if (json[i] == (byte)'\n') lineStarts.Add(i + 1);

        var reader = new Utf8JsonReader(json, options);
        var path = new List<string>();
        var arrayIndex = new Stack<int>();
        string? pendingProperty = null;
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingProperty = reader.GetString();
                        map.Record(PathOf(path, "." + pendingProperty), reader.TokenStartIndex, lineStarts);
                        continue;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        if (reader.TokenType == JsonTokenType.EndArray) arrayIndex.Pop();
                        if (path.Count > 0) path.RemoveAt(path.Count - 1);
                        continue;
                }

                var segment = pendingProperty is not null ? "." + pendingProperty
                    : arrayIndex.Count > 0 ? $"[{NextIndex(arrayIndex)}]" : "";
                pendingProperty = null;
                map.Record(PathOf(path, segment), reader.TokenStartIndex, lineStarts);
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    path.Add(segment);
                    if (reader.TokenType == JsonTokenType.StartArray) arrayIndex.Push(-1);
                }
            }
        }
        catch (JsonException)
        {
            // Syntax errors are reported by the deserialiser with their own position.
        }
        return map;
    }

    /// <summary>Position of the path, or of its nearest recorded parent.</summary>
    public (int Line, int Column) Find(string path)
    {
        while (true)
        {
            if (_positions.TryGetValue(path, out var position)) return position;
            var cut = Math.Max(path.LastIndexOf('.'), path.LastIndexOf('['));
            if (cut <= 1) return _positions.TryGetValue("$", out var root) ? root : (1, 1);
            path = path[..cut];
        }
    }

    private static int NextIndex(Stack<int> indexes)
    {
        var next = indexes.Pop() + 1;
        indexes.Push(next);
        return next;
    }

    private static string PathOf(List<string> path, string last) => "$" + string.Concat(path) + last;

    private void Record(string path, long offset, List<int> lineStarts)
    {
        var index = lineStarts.BinarySearch((int)offset);
        var line = index >= 0 ? index : ~index - 1;
        _positions.TryAdd(path, (line + 1, (int)offset - lineStarts[line] + 1));
    }
}
