using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Gateway.Configuration;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>Builds the host from appsettings.json in the current folder (or --config) and the environment.</summary>
public static class GatewayHostFactory
{
    /// <param name="tool">For <c>gateway queue</c>: no console logging (stdout carries the tool's output).</param>
    public static IHost Build(string? configPath, Action<IConfigurationBuilder>? overrides = null, bool tool = false)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = Directory.GetCurrentDirectory(),
        });
        builder.Configuration.Sources.Clear();
        builder.Configuration
            .AddJsonFile(Path.GetFullPath(configPath ?? "appsettings.json"), optional: configPath is null, reloadOnChange: false)
            .AddEnvironmentVariables();
        overrides?.Invoke(builder.Configuration);
        builder.Services.AddGateway(builder.Configuration);
        if (tool) builder.Logging.ClearProviders();
        // The host waits for the listener's grace period and the workers' ShutdownTimeout, one after the other.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<GatewayOptions>>((host, gateway) =>
            host.ShutdownTimeout = gateway.Value.Spool.ShutdownTimeout + Smtp.SmtpListenerService.GracePeriod(gateway.Value.Spool.ShutdownTimeout) + TimeSpan.FromSeconds(5));
        return builder.Build();
    }
}
