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
            foreach (var failure in e.Failures) await error.WriteLineAsync($"configuration error: {failure}");
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or FileNotFoundException or FormatException)
        {
            await error.WriteLineAsync($"configuration error: {e.Message}");
        }
        host?.Dispose();
        return null;
    }
}
