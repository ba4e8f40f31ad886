using System.Collections.Concurrent;
using Gateway.Audit;
using Gateway.Certificates;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Ca;

public enum EnrolmentOutcome { AlreadyValid, Issued, Renewed, NotIssued }

public sealed record EnrolmentResult(EnrolmentOutcome Outcome, CertificateChoice Choice);

/// <summary>
/// Makes sure an (eligible) address holds a current certificate from the issuer: the newest
/// unrevoked usable one is kept until Ca:RenewBeforeDays before it expires, then a new one is
/// issued, unless the new one could not end later (the CA itself ends first: every lookup would
/// otherwise issue again). One enrolment per address at a time, so workers and
/// <c>gateway ca issue --all</c> that meet the same sender at once issue one certificate, not
/// several: a semaphore within the process, and an entry lock (see Spool.EntryLock) in the CA's
/// locks/ folder between processes.
/// </summary>
public sealed class CertificateEnrolment(
    ICertificateIssuer issuer, IOptions<GatewayOptions> options, TimeProvider time, IAuditLog audit, ILogger<CertificateEnrolment> logger)
{
    /// <summary>Issuing one RSA-3072 key takes up to a few seconds; another process's enrolment is waited for this long.</summary>
    private static readonly TimeSpan OtherProcessWait = TimeSpan.FromSeconds(60);
    private readonly int _renewBeforeDays = options.Value.Ca.RenewBeforeDays;
    private readonly int _validityDays = options.Value.Ca.ValidityDays;
    private readonly string _locks = Path.Combine(Path.GetFullPath(options.Value.Ca.Path), "locks");
    private readonly ConcurrentDictionary<string, SemaphoreSlim> _enrolling = new(StringComparer.Ordinal);
    private readonly CaExpiryWarning _expiry = new(issuer, options.Value.Ca.RenewBeforeDays, time, audit, logger);

    public ICertificateIssuer Issuer => issuer;

    public async Task<EnrolmentResult> EnsureAsync(string address, string firstTrigger, CancellationToken cancellationToken)
    {
        // One enrolment at a time per identity, whatever the spelling (IssuedIdentityStore keys them alike).
        var key = Mail.MailAddress.LookupKey(address);
        var gate = _enrolling.GetOrAdd(key, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(cancellationToken);
        try
        {
            using var processLock = await Spool.EntryLock.AcquireAsync(_locks, "enrol " + key, OtherProcessWait, cancellationToken)
                ?? throw new IOException($"another process has been enrolling {address} for over {OtherProcessWait.TotalSeconds:0} s");
            var caEnd = await _expiry.CheckAsync(cancellationToken);
            // Looked at under the lock: another worker or process may have just enrolled this sender.
            var current = Current(address);
            if (current.Found && !RenewalDue(current, caEnd)) return new EnrolmentResult(EnrolmentOutcome.AlreadyValid, current);
            if (caEnd <= time.GetUtcNow().UtcDateTime)
            {
                var expired = $"not issued: {issuer.Name} expired on {caEnd:u} and cannot issue; import a new CA (gateway ca import)";
                return new EnrolmentResult(EnrolmentOutcome.NotIssued, current with { Reason = $"{current.Reason}; {expired}" });
            }
            var trigger = current.Found
                ? $"renewal: the current certificate expires on {current.Selected!.Certificate.NotAfter.ToUniversalTime():u}"
                : firstTrigger;
            await issuer.IssueAsync(address, trigger, cancellationToken);
            return new EnrolmentResult(current.Found ? EnrolmentOutcome.Renewed : EnrolmentOutcome.Issued, Current(address));
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>The newest unrevoked certificate the issuer gave this address that is usable for signing now.</summary>
    public CertificateChoice Current(string address)
    {
        var revoked = issuer.RevokedSerials();
        var candidates = issuer.IssuedTo(address)
            .Where(i => !revoked.Contains(i.Serial))
            .Select(i => new CertificateCandidate(i.Certificate, $"ca:{i.Serial}"));
        return CertificateSelector.Select(candidates, address, CertificateUsage.Signing, Trust());
    }

    /// <summary>
    /// Due within Ca:RenewBeforeDays of its end, and only if a new certificate would end later:
    /// one issued now ends at the CA's end at the latest, so near it renewing gains nothing.
    /// </summary>
    private bool RenewalDue(CertificateChoice current, DateTime caEnd)
    {
        var now = time.GetUtcNow().UtcDateTime;
        var currentEnd = current.Selected!.Certificate.NotAfter.ToUniversalTime();
        var newEnd = now.AddDays(_validityDays) < caEnd ? now.AddDays(_validityDays) : caEnd;
        return currentEnd <= now.AddDays(_renewBeforeDays) && newEnd > currentEnd;
    }

    /// <summary>
    /// The issuer's root anchors the chain when the issuer knows it (an imported subordinate CA
    /// with its chain), and the certificates between are intermediates, so the signer's chain
    /// sent with each mail lets partners who trust the company root verify it.
    /// </summary>
    private TrustContext Trust()
    {
        var chain = issuer.Chain;
        return new TrustContext([chain[^1]], [.. chain.Take(chain.Count - 1)], time);
    }
}
