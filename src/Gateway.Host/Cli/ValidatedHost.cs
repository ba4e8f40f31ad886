using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>Builds the host and validates every setting, printing each problem with its key; null when invalid.</summary>
public static class ValidatedHost
{
    /// <param name="tool">For the admin tools: no console logging, stdout carries the tool's output.</param>
    public static async Task<IHost?> TryCreateAsync(string? configPath, TextWriter error, Action<Microsoft.Extensions.Configuration.IConfigurationBuilder>? overrides = null, bool tool = false)
    {
        IHost? host = null;
        try
        {
            host = GatewayHostFactory.Build(configPath, overrides, tool);
            _ = host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
            return host;
        }
        catch (OptionsValidationException e)
        {
            // Errors about defaults ('policy.json' does not exist) puzzle when it is not clear that no settings file was read.
            var settings = Path.GetFullPath("appsettings.json");
            if (configPath is null && !File.Exists(settings))
                await error.WriteLineAsync($"note: no appsettings.json in {Path.GetDirectoryName(settings)} and no --config: the defaults were used (with any Gateway__ environment variables)");
            foreach (var failure in e.Failures) await error.WriteLineAsync($"configuration error: {failure}");
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or FileNotFoundException or FormatException)
        {
            await error.WriteLineAsync($"configuration error: {Describe(e)}");
        }
        host?.Dispose();
        return null;
    }

    /// <summary>
    /// The message with its causes: a settings file that is not JSON only says "Failed to load
    /// configuration from file '…'"; the reason and the place are in the JSON reader's exception within.
    /// </summary>
    private static string Describe(Exception e)
    {
        if (e.InnerException is null) return e.Message;
        var json = FindJsonException(e);
        if (json is { LineNumber: { } line, BytePositionInLine: { } position })
        {
            // The reader's message ends in "LineNumber: 3 | BytePositionInLine: 4." (both from 0).
            var reason = json.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) reason = reason[..cut];
            return $"{e.Message.TrimEnd('.')}: not valid JSON at line {line + 1}, column {position + 1}: {reason}";
        }
        return $"{e.Message.TrimEnd('.')}: {e.InnerException.Message}";
    }

    private static System.Text.Json.JsonException? FindJsonException(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is System.Text.Json.JsonException json) return json;
        return null;
    }
}
