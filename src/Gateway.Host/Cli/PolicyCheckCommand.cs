using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway policy check [FILE] [--config FILE]</c>: 0 when the policy compiles, 1 with
/// file:line:column errors otherwise. With settings (--config, or appsettings.json in the current
/// folder) FILE defaults to their Gateway:Policy:Path, and it also reports files of the
/// certificate folder that cannot be read (they stop `gateway run`) and sign-always rules for
/// sender addresses nobody can sign for.
/// </summary>
public static class PolicyCheckCommand
{
    /// <param name="file">The policy file; null for the settings' Gateway:Policy:Path (policy.json without settings).</param>
    public static async Task<int> ExecuteAsync(string? file, string? configPath, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
        // Settings first, as they name the file: `policy check --config /etc/gw/appsettings.json`
        // checks the policy that gateway would load, not a policy.json in the current folder.
        var withSettings = configPath is not null || File.Exists("appsettings.json");
        using var host = withSettings ? await ValidatedHost.TryCreateAsync(configPath, error, tool: true) : null;
        if (withSettings && host is null) return 1;
        file ??= host?.Services.GetRequiredService<IOptions<GatewayOptions>>().Value.Policy.Path ?? "policy.json";

        if (!File.Exists(file))
        {
            await error.WriteLineAsync($"{file}: no such file");
            return 1;
        }
        var json = await File.ReadAllBytesAsync(file, cancellationToken);
        var result = PolicyCompiler.Compile(json, file);
        if (!result.Succeeded)
        {
            foreach (var e in result.Errors) await error.WriteLineAsync(e.ToString());
            return 1;
        }

        var identities = "signing identities not checked (no settings: give --config)";
        if (host is not null)
        {
            var services = host.Services;
            // As `gateway run` does: a policy is not "valid" with a certificate folder the start refuses.
            if (await UnreadableCertificates.RefuseAsync(services, error)) return 1;
            var problems = await SigningIdentityCheck.FindAsync(result.Snapshot!, json, file, services.GetRequiredService<LocalCertificateStore>(),
                services.GetRequiredService<IOptions<GatewayOptions>>().Value, cancellationToken);
            foreach (var problem in problems) await error.WriteLineAsync(problem.ToString());
            if (problems.Count > 0) return 1;
            identities = "signing identities checked";
        }
        await output.WriteLineAsync($"{file}: valid, revision {result.Snapshot!.Revision}, {Counted.Of(result.Snapshot.Rules.Count, "rule", "rules")}; {identities}");
        return 0;
    }
}
