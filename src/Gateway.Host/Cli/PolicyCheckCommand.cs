using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Policy;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway policy check [FILE] [--config FILE]</c>: 0 when the policy compiles, 1 with
/// file:line:column errors otherwise. With settings (--config, or appsettings.json in the current
/// folder) it also reports files of the certificate folder that cannot be read (they stop
/// `gateway run`) and sign-always rules for sender addresses nobody can sign for.
/// </summary>
public static class PolicyCheckCommand
{
    public static async Task<int> ExecuteAsync(string file, string? configPath, TextWriter output, TextWriter error, CancellationToken cancellationToken = default)
    {
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
        if (configPath is not null || File.Exists("appsettings.json"))
        {
            using var host = await ValidatedHost.TryCreateAsync(configPath, error, tool: true);
            if (host is null) return 1;
            // As `gateway run` does: a policy is not "valid" with a certificate folder the start refuses.
            var unreadable = UnreadableCertificates.Of(host.Services);
            foreach (var problem in unreadable) await error.WriteLineAsync($"certificate error: {problem}");
            if (unreadable.Count > 0) return 1;
            var problems = await SigningIdentityCheck.FindAsync(result.Snapshot!, json, file, host.Services.GetRequiredService<LocalCertificateStore>(),
                host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value, cancellationToken);
            foreach (var problem in problems) await error.WriteLineAsync(problem.ToString());
            if (problems.Count > 0) return 1;
            identities = "signing identities checked";
        }
        await output.WriteLineAsync($"{file}: valid, revision {result.Snapshot!.Revision}, {result.Snapshot.Rules.Count} rules; {identities}");
        return 0;
    }
}
