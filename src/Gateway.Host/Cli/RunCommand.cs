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
        var host = await ValidatedHost.TryCreateAsync(configPath, error);
        if (host is null) return 1;

        using (host)
        {
            if (await UnreadableCertificates.RefuseAsync(host.Services, error)) return 1;
            var policy = host.Services.GetRequiredService<PolicyProvider>().Load();
            if (!policy.Succeeded)
            {
                foreach (var e in policy.Errors) await error.WriteLineAsync($"policy error: {e}");
                return 1;
            }
            if (Smtp.ConnectionCap.Refusal(host.Services.GetRequiredService<IOptions<Configuration.GatewayOptions>>().Value) is { } tooFewFiles)
            {
                await error.WriteLineAsync($"error: {tooFewFiles}");
                return 1;
            }
            // Checked here for a plain refusal; the spool's service claims it again (a no-op) before its recovery.
            var ownership = host.Services.GetRequiredService<Spool.SpoolOwnership>();
            if (!ownership.TryClaim())
            {
                await error.WriteLineAsync($"error: {ownership.InUseMessage}");
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
