using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Serialization;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Policy;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway policy explain --from A --to B [--to C] [--subject S] [--header "Name: value"] [--json]</c>:
/// what the gateway would do with such a message now. It uses the gateway's own configuration,
/// certificate store and planner, so the answer is the running gateway's, not a second opinion.
/// </summary>
public static class PolicyExplainCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    public sealed record Request(string From, IReadOnlyList<string> To, string? Subject, IReadOnlyList<string> Headers, bool AsJson, string? ConfigPath);

    public static async Task<int> ExecuteAsync(Request request, TextWriter output, TextWriter error, CancellationToken cancellationToken,
        Action<IConfigurationBuilder>? overrides = null)
    {
        foreach (var header in request.Headers)
        {
            var colon = header.IndexOf(':');
            if (colon <= 0 || header[..colon].Any(c => c <= ' ' || c >= 127))
            {
                await error.WriteLineAsync($"--header \"{header}\": write it as \"Name: value\"");
                return 1;
            }
        }

        // Informational logs would mix into the answer (and break --json); warnings still show.
        // The certificate folder's unreadable files are named below as a warning, not as the store's log line.
        using var host = await ValidatedHost.TryCreateAsync(request.ConfigPath, error, c =>
        {
            c.AddInMemoryCollection(new Dictionary<string, string?>
            {
                ["Logging:LogLevel:Default"] = "Warning",
                [$"Logging:LogLevel:{typeof(LocalCertificateStore).FullName}"] = "Critical",
            });
            overrides?.Invoke(c);
        });
        if (host is null) return 1;
        await UnreadableCertificates.WarnAsync(host.Services, error);
        var options = host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;

        var compiled = PolicyCompiler.Compile(await File.ReadAllBytesAsync(options.Policy.Path, cancellationToken), options.Policy.Path);
        if (!compiled.Succeeded)
        {
            foreach (var e in compiled.Errors) await error.WriteLineAsync($"policy error: {e}");
            return 1;
        }

        var sender = request.From == "<>" ? "" : request.From;
        var facts = MessageFacts.From(request.Subject, request.Headers);
        var plan = await host.Services.GetRequiredService<MessagePlanner>().PlanAsync(compiled.Snapshot!, sender, request.To, facts, lookupGraceOver: false, cancellationToken);

        // Recipients whose rule never encrypts are not looked up by the planner; the admin still wants to know.
        var directory = host.Services.GetRequiredService<ICertificateDirectory>();
        var looked = new Dictionary<string, CertificateChoice>(StringComparer.OrdinalIgnoreCase);
        foreach (var recipient in request.To)
            looked[recipient] = await directory.FindRecipientAsync(recipient, cancellationToken);

        var explanation = PolicyExplanation.From(compiled.Snapshot!, request.From, request.To, plan, looked);
        if (request.AsJson) await output.WriteLineAsync(JsonSerializer.Serialize(explanation, Json));
        else foreach (var line in explanation.Lines()) await output.WriteLineAsync(line);
        return 0;
    }
}
