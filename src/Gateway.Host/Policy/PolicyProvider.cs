using Gateway.Audit;
using Gateway.Configuration;
using Gateway.Policy;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Policy;

/// <summary>
/// Holds the current policy snapshot. Loaded at start, where a bad file stops Gateway with
/// file:line:column. (Live reload on change is the policy issue's next step.)
/// </summary>
public sealed partial class PolicyProvider
{
    private readonly ILogger<PolicyProvider> _logger;
    private volatile PolicySnapshot? _current;

    public PolicyProvider(IOptions<GatewayOptions> options, ILogger<PolicyProvider> logger)
    {
        _logger = logger;
        PolicyPath = options.Value.Policy.Path;
    }

    public string PolicyPath { get; }

    public PolicySnapshot Current => _current ?? throw new InvalidOperationException("policy not loaded yet");

    public PolicyCompileResult Load()
    {
        var result = PolicyCompiler.Compile(File.ReadAllBytes(PolicyPath), PolicyPath);
        if (result.Succeeded)
        {
            _current = result.Snapshot;
            LogLoaded(PolicyPath, result.Snapshot!.Revision, result.Snapshot.Rules.Count);
        }
        return result;
    }

    [LoggerMessage(EventId = 3001, Level = LogLevel.Information, Message = "Policy {Path} revision {Revision} loaded with {Rules} rules")]
    private partial void LogLoaded(string path, string revision, int rules);
}
