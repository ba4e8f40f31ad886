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
            await error.WriteLineAsync($"configuration error: {Describe(e, configPath ?? Path.GetFullPath("appsettings.json"))}");
        }
        host?.Dispose();
        return null;
    }

    /// <summary>
    /// The message with its causes: a settings file that is not JSON only says "Failed to load
    /// configuration from file '…'"; the reason and the place are in the JSON reader's exception within.
    /// </summary>
    private static string Describe(Exception e, string settingsPath)
    {
        if (e.InnerException is null) return e.Message;
        var json = FindJsonException(e);
        if (json is { LineNumber: { } line, BytePositionInLine: { } position })
        {
            // The reader's message ends in "LineNumber: 3 | BytePositionInLine: 4." (both from 0).
            var reason = json.Message;
            var cut = reason.IndexOf(" LineNumber:", StringComparison.Ordinal);
            if (cut > 0) reason = reason[..cut];
            return $"{e.Message.TrimEnd('.')}: not valid JSON at line {line + 1}, column {Column(settingsPath, line, position)}: {reason}";
        }
        return $"{e.Message.TrimEnd('.')}: {e.InnerException.Message}";
    }

    /// <summary>
    /// The column as an editor shows it, counted in characters: the reader counts UTF-8 bytes, so
    /// a line with "Zürich" before the fault would point one column too far.
    /// </summary>
    private static long Column(string path, long line, long byteInLine)
    {
        try
        {
            var text = File.ReadLines(path).Skip((int)line).FirstOrDefault();
            if (text is null) return byteInLine + 1;
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            return System.Text.Encoding.UTF8.GetCharCount(bytes, 0, (int)Math.Min(byteInLine, bytes.Length)) + 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return byteInLine + 1;
        }
    }

    private static System.Text.Json.JsonException? FindJsonException(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is System.Text.Json.JsonException json) return json;
        return null;
    }
}
