using Gateway.Configuration;
using Gateway.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway run</c>: checks configuration and policy first and refuses to start on any error,
/// naming the key or the file and line; then runs until SIGTERM or Ctrl-C.
/// </summary>
public static class RunCommand
{
    public static async Task<int> ExecuteAsync(string? configPath, TextWriter error, CancellationToken cancellationToken)
    {
        IHost host;
        try
        {
            host = GatewayHostFactory.Build(configPath);
            _ = host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        }
        catch (OptionsValidationException e)
        {
            foreach (var failure in e.Failures) await error.WriteLineAsync($"configuration error: {failure}");
            return 1;
        }
        catch (Exception e) when (e is InvalidOperationException or InvalidDataException or FileNotFoundException or FormatException)
        {
            await error.WriteLineAsync($"configuration error: {e.Message}");
            return 1;
        }

        using (host)
        {
            var policy = host.Services.GetRequiredService<PolicyProvider>().Load();
            if (!policy.Succeeded)
            {
                foreach (var e in policy.Errors) await error.WriteLineAsync($"policy error: {e}");
                return 1;
            }
            var listener = host.Services.GetRequiredService<Smtp.SmtpListenerService>().Ready;
            await host.RunAsync(cancellationToken); // disposes the host when it returns
            if (listener.IsFaulted)
            {
                await error.WriteLineAsync($"error: the SMTP listener could not start: {listener.Exception!.InnerException?.Message}");
                return 1;
            }
            return 0;
        }
    }
}
