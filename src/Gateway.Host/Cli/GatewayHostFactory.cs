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
    /// <param name="services">Registrations after Gateway's own, which they replace (tests put a failing disk or peer in).</param>
    public static IHost Build(string? configPath, Action<IConfigurationBuilder>? overrides = null, bool tool = false, Action<IServiceCollection>? services = null)
    {
        // No defaults: they watch the content root recursively for appsettings changes, and with the
        // spool below it (var/spool, the default) every accepted message raised inotify events that
        // the watcher filtered on the thread pool. Settings need a restart anyway (README).
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings
        {
            Args = [],
            ContentRootPath = Directory.GetCurrentDirectory(),
            DisableDefaults = true,
        });
        builder.Configuration
            .AddJsonFile(Path.GetFullPath(configPath ?? "appsettings.json"), optional: configPath is null, reloadOnChange: false)
            .AddEnvironmentVariables();
        overrides?.Invoke(builder.Configuration);
        builder.Services.AddGateway(builder.Configuration);
        // The service reads the server's key; the tools never do (ServerCertificateValidation).
        if (!tool) builder.Services.AddSingleton<Microsoft.Extensions.Options.IValidateOptions<Configuration.GatewayOptions>, Configuration.ServerCertificateValidation>();
        services?.Invoke(builder.Services);
        builder.Logging.AddConfiguration(builder.Configuration.GetSection("Logging"));
        if (!tool) builder.Logging.AddConsole();
        // The host waits for the listener's grace period and the workers' ShutdownTimeout, one after the other.
        builder.Services.AddOptions<HostOptions>().Configure<IOptions<GatewayOptions>>((host, gateway) =>
            host.ShutdownTimeout = gateway.Value.Spool.ShutdownTimeout + Smtp.SmtpListenerService.GracePeriod(gateway.Value.Spool.ShutdownTimeout) + TimeSpan.FromSeconds(5));
        try
        {
            return builder.Build(); // binds the settings (the host's options depend on them)
        }
        catch (InvalidOperationException) when (UnknownSettingsValidator.Problems(builder.Configuration) is { Count: > 0 } problems)
        {
            // The binder stopped at the first value it cannot convert, naming its .NET type; the
            // settings as written say what is wrong with it, and with any other, in the admin's words.
            throw new OptionsValidationException(GatewayOptions.Section, typeof(GatewayOptions), problems);
        }
    }
}
