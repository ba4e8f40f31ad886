using System.Text.Json;

namespace Gateway.Policy;

/// <summary>
/// Maps JSON paths such as <c>$.rules[1].senders[0]</c> to line and column, so that errors found
/// after deserialisation still point at the admin's text.
/// </summary>
internal sealed class JsonPositionMap
{
    private readonly Dictionary<string, (int Line, int Column)> _positions = new(StringComparer.Ordinal);
    private readonly byte[] _json;
    private readonly List<int> _lineStarts = [0];

    /// <summary>The first key given twice in one object, if any: its path and the position of its second occurrence.</summary>
    public (string Path, string Name, int Line, int Column)? Duplicate { get; private set; }

    /// <summary>Paths given an explicit <c>null</c>, in document order.</summary>
    public List<string> Nulls { get; } = [];

    private JsonPositionMap(ReadOnlySpan<byte> json)
    {
        _json = json.ToArray();
        for (var i = 0; i < _json.Length; i++)
            if (_json[i] == (byte)'\n') _lineStarts.Add(i + 1);
    }

    public static JsonPositionMap Build(ReadOnlySpan<byte> json, JsonReaderOptions options)
    {
        var map = new JsonPositionMap(json);

        var reader = new Utf8JsonReader(json, options);
        var path = new List<string>();
        var arrayIndex = new Stack<int>();
        string? pendingProperty = null;
        var keysSeen = new Stack<HashSet<string>>();
        try
        {
            while (reader.Read())
            {
                switch (reader.TokenType)
                {
                    case JsonTokenType.PropertyName:
                        pendingProperty = reader.GetString()!;
                        if (!keysSeen.Peek().Add(pendingProperty) && map.Duplicate is null)
                        {
                            var (line, column) = map.Locate((int)reader.TokenStartIndex);
                            map.Duplicate = (PathOf(path, "." + pendingProperty), pendingProperty, line, column);
                        }
                        map.Record(PathOf(path, "." + pendingProperty), reader.TokenStartIndex);
                        continue;
                    case JsonTokenType.EndObject:
                    case JsonTokenType.EndArray:
                        if (reader.TokenType == JsonTokenType.EndArray) arrayIndex.Pop();
                        else keysSeen.Pop();
                        if (path.Count > 0) path.RemoveAt(path.Count - 1);
                        continue;
                }

                var segment = pendingProperty is not null ? "." + pendingProperty
                    : arrayIndex.Count > 0 ? $"[{NextIndex(arrayIndex)}]" : "";
                pendingProperty = null;
                map.Record(PathOf(path, segment), reader.TokenStartIndex);
                if (reader.TokenType == JsonTokenType.Null) map.Nulls.Add(PathOf(path, segment));
                if (reader.TokenType is JsonTokenType.StartObject or JsonTokenType.StartArray)
                {
                    path.Add(segment);
                    if (reader.TokenType == JsonTokenType.StartArray) arrayIndex.Push(-1);
                    else keysSeen.Push(new HashSet<string>(StringComparer.Ordinal));
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

    /// <summary>Line and column (from 1, in characters) of a 0-based line and byte position, as JsonException reports them.</summary>
    public (int Line, int Column) FromLineAndByte(long line, long byteInLine)
    {
        var index = (int)Math.Clamp(line, 0, _lineStarts.Count - 1);
        return Locate(_lineStarts[index] + (int)byteInLine);
    }

    private void Record(string path, long offset) => _positions.TryAdd(path, Locate((int)offset));

    private (int Line, int Column) Locate(int offset)
    {
        offset = Math.Clamp(offset, 0, _json.Length);
        var index = _lineStarts.BinarySearch(offset);
        var line = index >= 0 ? index : ~index - 1;
        // Columns count characters, as an editor shows them, not UTF-8 bytes.
        var column = System.Text.Encoding.UTF8.GetCharCount(_json, _lineStarts[line], offset - _lineStarts[line]);
        return (line + 1, column + 1);
    }
}
