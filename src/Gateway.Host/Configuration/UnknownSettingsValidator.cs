using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>
/// Rejects settings Gateway does not know, naming each by its full key (Gateway:Smtp:Prot):
/// a mistyped key would otherwise be ignored and its default silently used. Also rejects a
/// setting in the wrong shape and an enum given by number: the binder leaves a list given as one
/// value (Gateway__Smtp__SenderDomains=example.com) null, which means "any sender domain", and
/// takes "7" for an enum no code path expects.
/// </summary>
public sealed class UnknownSettingsValidator(IConfiguration configuration) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var unknown = Problems(configuration);
        return unknown.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(unknown);
    }

    /// <summary>
    /// The problems of the settings as written, before binding: the binder stops at the first value
    /// it cannot convert ("Failed to convert ... to type 'Gateway.Configuration.RelayTlsMode'"),
    /// so the start asks here for every problem in words an admin can act on.
    /// </summary>
    public static IReadOnlyList<string> Problems(IConfiguration configuration)
    {
        var unknown = new List<string>();
        Check(configuration.GetSection(GatewayOptions.Section), typeof(GatewayOptions), unknown);
        return unknown;
    }

    private static void Check(IConfigurationSection section, Type type, List<string> unknown)
    {
        var properties = type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.CanWrite)
            .ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                unknown.Add($"{child.Path}: unknown setting (known here: {string.Join(", ", properties.Keys.Order())})");
                continue;
            }
            var propertyType = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (IsLeaf(propertyType))
            {
                CheckLeaf(child, propertyType, unknown);
                continue;
            }
            if (HasValue(child))
            {
                unknown.Add(propertyType.IsArray
                    ? $"{child.Path} is a list, not a single value: write it as a JSON array (\"{child.Key}\": [ \"{child.Value}\" ]) or as {child.Path}:0, {child.Path}:1 ... (environment: {EnvironmentName(child.Path)}__0)"
                    : $"{child.Path} is a section, not a single value: set its keys ({child.Path}:KEY)");
                continue;
            }
            if (propertyType.IsArray)
            {
                var element = propertyType.GetElementType()!;
                foreach (var entry in child.GetChildren())
                {
                    if (IsLeaf(element)) CheckLeaf(entry, element, unknown);
                    // A list of objects (Ldap directories) is checked entry by entry.
                    else if (HasValue(entry)) unknown.Add($"{entry.Path} is a section, not a single value: set its keys ({entry.Path}:KEY)");
                    else Check(entry, element, unknown);
                }
                continue;
            }
            Check(child, propertyType, unknown);
        }
    }

    private static void CheckLeaf(IConfigurationSection setting, Type type, List<string> unknown)
    {
        if (!HasValue(setting) && setting.GetChildren().Any())
        {
            unknown.Add($"{setting.Path} is a single value, not a list or section: write {setting.Path}=VALUE");
            return;
        }
        if (!HasValue(setting)) return;
        var value = setting.Value!.Trim();
        // The binder takes any number for an enum ("7", or "1" for a name the admin did not write).
        if (type.IsEnum)
        {
            if (!Enum.GetNames(type).Contains(value, StringComparer.OrdinalIgnoreCase))
                unknown.Add($"{setting.Path}: '{setting.Value}' is not one of {string.Join(", ", Enum.GetNames(type))}");
            return;
        }
        if (type == typeof(string) || Converts(type, setting.Value!)) return;
        unknown.Add($"{setting.Path}: '{setting.Value}' is not {Expected(type)}");
    }

    /// <summary>Whether the binder will take the value: it converts with the type's converter and the invariant culture.</summary>
    private static bool Converts(Type type, string value)
    {
        try
        {
            _ = System.ComponentModel.TypeDescriptor.GetConverter(type).ConvertFromInvariantString(value);
            return true;
        }
        catch (Exception e) when (e is FormatException or ArgumentException or OverflowException or NotSupportedException || e.InnerException is FormatException or OverflowException)
        {
            return false;
        }
    }

    private static string Expected(Type type) =>
        type == typeof(TimeSpan) ? "a duration: write [d.]hh:mm:ss, e.g. 00:05:00 for five minutes, 1.00:00:00 for a day"
        : type == typeof(bool) ? "true or false"
        : type == typeof(int) || type == typeof(long) ? "a whole number"
        : $"a {type.Name} value";

    private static bool HasValue(IConfigurationSection section) => !string.IsNullOrEmpty(section.Value);

    private static string EnvironmentName(string path) => path.Replace(":", "__", StringComparison.Ordinal);

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(decimal);
}
