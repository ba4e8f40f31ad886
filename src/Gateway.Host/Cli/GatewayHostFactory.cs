using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;

namespace Gateway.Cli;

/// <summary>Builds the host from appsettings.json in the current folder (or --config) and the environment.</summary>
public static class GatewayHostFactory
{
    public static IHost Build(string? configPath, Action<IConfigurationBuilder>? overrides = null)
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
        builder.Services.Configure<HostOptions>(o => o.ShutdownTimeout = TimeSpan.FromSeconds(30));
        return builder.Build();
    }
}
