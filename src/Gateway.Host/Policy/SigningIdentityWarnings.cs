using Gateway.Audit;
using Gateway.Certificates;
using Gateway.Cli;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Policy;

/// <summary>
/// Says, at start and whenever the policy or the certificate folder is reloaded, which rules sign
/// always for a sender nobody can sign for (<see cref="SigningIdentityCheck"/>, what
/// <c>gateway policy check</c> reports): every mail of that sender would be refused or held. Each
/// problem is logged and audited once, when it appears, not at every reload.
/// </summary>
public sealed partial class SigningIdentityWarnings(PolicyProvider policies, LocalCertificateStore local, IAuditLog audit,
    IOptions<GatewayOptions> options, ILogger<SigningIdentityWarnings> logger)
{
    private readonly SemaphoreSlim _gate = new(1, 1);
    private HashSet<string> _reported = [];

    /// <param name="after">What just happened, for the words: "start", "policy reload", "certificate folder reload".</param>
    public async Task ReportAsync(string after, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            byte[] json;
            try
            {
                json = await File.ReadAllBytesAsync(policies.PolicyPath, cancellationToken);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                return; // mid-save: the policy reload that follows asks again
            }
            var problems = (await SigningIdentityCheck.FindAsync(policies.Current, json, policies.PolicyPath, local, options.Value, cancellationToken))
                .Select(p => p.ToString()).ToHashSet();
            foreach (var problem in problems.Where(p => !_reported.Contains(p)))
            {
                LogMissing(problem, after);
                await audit.TryWriteAsync(new AuditEvent("signing-identity-missing") { Action = "warned", Reason = $"{problem} (at {after})" });
            }
            _reported = problems; // one that cleared may be reported again if it comes back
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "{Problem} (at {After}); every mail of that sender will be refused or held")]
    private partial void LogMissing(string problem, string after);
}
