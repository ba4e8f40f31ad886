using System.Collections;
using System.Reflection;
using System.Text.Json;
using System.Text.RegularExpressions;

namespace Gateway.Policy;

/// <summary>
/// The keys of policy.json and what each holds, found by the JSON path System.Text.Json names in
/// its errors, so that an error says what belongs there (a list, the allowed values, the key's
/// spelling) instead of a .NET type or "see the README".
/// </summary>
internal static partial class PolicyKeys
{
    /// <summary>What is wrong with a key that is not one: the key it differs from only in case, else the keys known there.</summary>
    public static string UnknownKey(string path)
    {
        var (parent, key) = Split(path);
        if (parent is null || TypeAt(parent) is not { } type || !IsObject(type)) return $"unknown key at {path}";
        var known = KeysOf(type);
        if (known.FirstOrDefault(k => string.Equals(k, key, StringComparison.OrdinalIgnoreCase)) is { } spelled)
            return $"unknown key at {path}: keys are case-sensitive, write \"{spelled}\"";
        return $"unknown key at {path} (known here: {string.Join(", ", known)})";
    }

    /// <summary>What belongs at a path whose value could not be read.</summary>
    public static string InvalidValue(string path) =>
        TypeAt(path) is { } type ? $"invalid value at {path}: {Expected(type, Split(path).Key)}" : $"invalid value at {path}";

    private static string Expected(Type type, string key)
    {
        type = Nullable.GetUnderlyingType(type) ?? type;
        if (type.IsEnum) return $"must be one of {string.Join(", ", Enum.GetNames(type).Select(n => $"\"{JsonNamingPolicy.CamelCase.ConvertName(n)}\""))}";
        if (type == typeof(string)) return "must be a string (in double quotes)";
        if (type == typeof(bool)) return "must be true or false";
        if (ElementType(type) is { } element)
            return element == typeof(string)
                ? $"must be a list, also for one entry: \"{key}\": [\"example.com\"]"
                : $"must be a list of objects: \"{key}\": [ {{ ... }} ]";
        return $"must be an object: \"{key}\": {{ ... }}";
    }

    /// <summary>The type a path leads to ($.rules[0].recipients), or null when it leads nowhere known.</summary>
    private static Type? TypeAt(string path)
    {
        Type? type = typeof(PolicyDocument);
        foreach (Match step in Step().Matches(path))
        {
            type = Nullable.GetUnderlyingType(type!) ?? type;
            if (step.Groups["index"].Success) type = ElementType(type!);
            else
            {
                var name = Key(step);
                type = IsObject(type!) ? Properties(type!).FirstOrDefault(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name) == name)?.PropertyType : null;
            }
            if (type is null) return null;
        }
        return type;
    }

    /// <summary>The path of the object holding the last key, and that key.</summary>
    private static (string? Parent, string Key) Split(string path)
    {
        var steps = Step().Matches(path);
        if (steps.Count == 0) return (null, path);
        var last = steps[^1];
        return (path[..last.Index], last.Groups["index"].Success ? last.Value : Key(last));
    }

    /// <summary>The key a step names, .name or ['quoted'] ('' is a quote).</summary>
    private static string Key(Match step) =>
        step.Groups["name"].Success ? step.Groups["name"].Value : step.Groups["quoted"].Value.Replace("''", "'", StringComparison.Ordinal);

    private static IReadOnlyList<string> KeysOf(Type type) => Properties(type).Select(p => JsonNamingPolicy.CamelCase.ConvertName(p.Name)).Order(StringComparer.Ordinal).ToList();

    private static IEnumerable<PropertyInfo> Properties(Type type) => type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite);

    private static bool IsObject(Type type) => type.IsClass && type != typeof(string) && ElementType(type) is null;

    private static Type? ElementType(Type type) =>
        type.IsArray ? type.GetElementType()
        : type.IsGenericType && typeof(IEnumerable).IsAssignableFrom(type) && type != typeof(string) ? type.GetGenericArguments()[0]
        : null;

    // $.rules[0].recipients, $['a key'], $.rules[0]['Recipients']
    [GeneratedRegex(@"\.(?<name>[^.\[]+)|\['(?<quoted>(?:[^']|'')*)'\]|\[(?<index>\d+)\]")]
    private static partial Regex Step();
}
