using Gateway.Audit;
using Gateway.Certificates;
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

    /// <summary>Checks the policy in force against the certificates now; never throws (a failed check is logged, the reload it follows stands).</summary>
    /// <param name="after">What just happened, for the words: "start", "policy reload", "certificate folder reload".</param>
    public async Task ReportAsync(string after, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            // Positions from the bytes the policy in force was compiled from, not from the file now.
            var policy = policies.Loaded;
            var problems = await SigningIdentityCheck.FindAsync(policy.Snapshot, policy.Json, policies.PolicyPath, local, options.Value, cancellationToken);
            var reported = new HashSet<string>();
            foreach (var problem in problems)
            {
                // Known by its words (rule, sender, why), not its line: a rule moved down is the same problem.
                if (_reported.Contains(problem.Message))
                {
                    reported.Add(problem.Message);
                    continue;
                }
                LogMissing(problem.ToString(), after);
                if (await audit.TryWriteAsync(new AuditEvent("signing-identity-missing") { Action = "warned", Reason = $"{problem} (at {after})" }))
                    reported.Add(problem.Message);
            }
            _reported = reported; // one that cleared is reported again if it comes back
        }
        catch (Exception e) when (e is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
        {
            LogCheckFailed(e, after);
        }
        finally
        {
            _gate.Release();
        }
    }

    [LoggerMessage(EventId = 3006, Level = LogLevel.Error, Message = "Could not check the signing identities of sign-always rules (at {After})")]
    private partial void LogCheckFailed(Exception exception, string after);

    [LoggerMessage(EventId = 3005, Level = LogLevel.Warning, Message = "{Problem} (at {After}); every mail of that sender will be refused or held")]
    private partial void LogMissing(string problem, string after);
}
