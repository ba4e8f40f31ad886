using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// The services of a gateway built from the same settings as <c>run</c>, but never started: the
/// tools use its spool and audit log without listening or processing. Settings errors are
/// printed naming the key, and null is returned.
/// </summary>
public static class ToolHost
{
    public static async Task<IHost?> BuildAsync(string? configPath, TextWriter error)
    {
        IHost? host = null;
        try
        {
            host = GatewayHostFactory.Build(configPath, tool: true);
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
