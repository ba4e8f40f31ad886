using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>Builds the host and validates every setting, printing each problem with its key; null when invalid.</summary>
public static class ValidatedHost
{
    public static async Task<IHost?> TryCreateAsync(string? configPath, TextWriter error, Action<Microsoft.Extensions.Configuration.IConfigurationBuilder>? overrides = null)
    {
        IHost? host = null;
        try
        {
            host = GatewayHostFactory.Build(configPath, overrides);
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
