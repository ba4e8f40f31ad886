using System.Collections.Concurrent;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Policy;
using Microsoft.Extensions.Options;

namespace Gateway.Ca;

/// <summary>
/// Gives every eligible internal sender a signing identity without an admin: when the local
/// store has none, the built-in CA's newest unrevoked certificate is used, and when there is
/// none or it expires within Ca:RenewBeforeDays, a new one is issued on the spot, so the mail
/// that triggered it leaves signed. An identity the admin put in the local store always wins.
/// </summary>
public sealed class EnrollingCertificateDirectory(
    ICertificateDirectory inner, BuiltInCertificateAuthority ca, IOptions<GatewayOptions> options, TimeProvider time) : ICertificateDirectory
{
    private readonly CaOptions _options = options.Value.Ca;
    private readonly IReadOnlyList<AddressPattern> _eligible = (options.Value.Ca.EligibleSenders ?? [])
        .Select(p => AddressPattern.TryParse(p, out var pattern, out _) ? pattern! : throw new InvalidOperationException($"invalid Gateway:Ca:EligibleSenders pattern '{p}'"))
        .ToList();
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _enrolling = new(StringComparer.OrdinalIgnoreCase);

    public async ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken)
    {
        var local = await inner.FindSignerAsync(address, cancellationToken);
        if (local.Found || address.Length == 0 || !_eligible.Any(p => p.Matches(address))) return local;

        var gate = _enrolling.GetOrAdd(address, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            // Checked again under the lock: another worker may have just enrolled this sender.
            var current = Choose(address);
            var renewAt = time.GetUtcNow().AddDays(_options.RenewBeforeDays);
            if (current.Found && current.Selected!.Certificate.NotAfter.ToUniversalTime() > renewAt.UtcDateTime) return current;
            var trigger = current.Found
                ? $"renewal: the current certificate expires on {current.Selected!.Certificate.NotAfter.ToUniversalTime():u}"
                : "first mail of an eligible sender without a signing certificate";
            await ca.IssueAsync(address, trigger, cancellationToken);
            return Choose(address);
        }
        finally
        {
            gate.Release();
        }
    }

    public ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken) =>
        inner.FindRecipientAsync(address, cancellationToken);

    private CertificateChoice Choose(string address)
    {
        var revoked = ca.RevokedSerials();
        var candidates = ca.IssuedTo(address)
            .Where(i => !revoked.Contains(i.Serial))
            .Select(i => new CertificateCandidate(i.Certificate, $"ca:{i.Serial}"));
        var trust = new TrustContext([ca.Certificate], [], time);
        return CertificateSelector.Select(candidates, address, CertificateUsage.Signing, trust);
    }
}
