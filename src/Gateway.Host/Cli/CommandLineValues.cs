using System.CommandLine.Parsing;
using System.Globalization;
using System.Text.Json;

namespace Gateway.Cli;

/// <summary>
/// Parsers for option values that say what is expected when a value is wrong: System.CommandLine's
/// own error names the .NET type ("System.Nullable`1[System.Int32]", "X509RevocationReason").
/// </summary>
public static class CommandLineValues
{
    /// <summary>A number of days, 0 or more (a negative one would list nothing but the unusable, silently).</summary>
    public static int? Days(ArgumentResult result)
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
        if (int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out var days)) return days;
        result.AddError($"{Name(result)}: '{text}' is not a number of days (a whole number, 0 or more)");
        return null;
    }

    /// <summary>An enum value by its name in camelCase (keyCompromise) or as .NET writes it (KeyCompromise), any case; never a number.</summary>
    public static T Enum<T>(ArgumentResult result) where T : struct, Enum
    {
        var text = result.Tokens.Count == 0 ? "" : result.Tokens[0].Value;
        if (!text.All(char.IsDigit) && System.Enum.TryParse<T>(text, ignoreCase: true, out var value) && System.Enum.IsDefined(value)) return value;
        result.AddError($"{Name(result)}: '{text}' is not one of {string.Join(", ", Names<T>())}");
        return default;
    }

    public static IEnumerable<string> Names<T>() where T : struct, Enum => System.Enum.GetNames<T>().Select(JsonNamingPolicy.CamelCase.ConvertName);

    private static string Name(ArgumentResult result) => result.Parent is OptionResult option ? option.Option.Name : result.Argument.Name;
}
