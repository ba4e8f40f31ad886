using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Configuration;

/// <summary>
/// Rejects settings Gateway does not know, naming each by its full key (Gateway:Smtp:Prot):
/// a mistyped key would otherwise be ignored and its default silently used.
/// </summary>
public sealed class UnknownSettingsValidator(IConfiguration configuration) : IValidateOptions<GatewayOptions>
{
    public ValidateOptionsResult Validate(string? name, GatewayOptions options)
    {
        var unknown = new List<string>();
        Check(configuration.GetSection(GatewayOptions.Section), typeof(GatewayOptions), unknown);
        return unknown.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(unknown);
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
            if (IsLeaf(propertyType)) continue;
            if (propertyType.IsArray)
            {
                // A list of objects (Ldap directories) is checked entry by entry.
                var element = propertyType.GetElementType()!;
                if (!IsLeaf(element)) foreach (var entry in child.GetChildren()) Check(entry, element, unknown);
                continue;
            }
            Check(child, propertyType, unknown);
        }
    }

    private static bool IsLeaf(Type type) =>
        type.IsPrimitive || type.IsEnum || type == typeof(string) || type == typeof(TimeSpan) || type == typeof(decimal);
}
