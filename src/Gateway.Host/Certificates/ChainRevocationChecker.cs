using System.Collections.Concurrent;
using System.Diagnostics;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Certificates;

/// <summary>
/// Checks revocation with .NET's chain engine: CRLs from the certificates' distribution points
/// and OCSP from their authority information access, fetched over HTTP with a timeout and cached
/// by .NET until their next update. Only configured anchors are trusted; issuers are never
/// downloaded. The fetch blocks its thread, so it runs on one of its own, at most
/// <see cref="ConcurrentChecks"/> at once per issuer (<see cref="BlockingCallSlots"/>).
/// An issuer whose CRL or OCSP server kept a check waiting at least half the Timeout and gave no
/// usable answer is not asked again for three Timeouts: certificates it issued are checked against
/// what .NET has cached only, so a message to many of its subjects does not wait a Timeout for
/// each, and checks queued behind the one that found out take its finding at once.
/// Not for a message past its lookup grace (<see cref="FreshLookups"/>): there the status decides.
/// </summary>
public sealed partial class ChainRevocationChecker(IOptions<GatewayOptions> options, TrustContext trust, ILogger<ChainRevocationChecker>? logger = null) : IRevocationChecker
{
    /// <summary>A message's 8 lookups times 4 workers, each checking a dozen candidates, would otherwise start hundreds of threads against one silent server.</summary>
    private const int ConcurrentChecks = 4;

    private readonly RevocationOptions _options = options.Value.Certificates.Revocation;
    private readonly ILogger _logger = logger ?? NullLogger<ChainRevocationChecker>.Instance;

    /// <summary>Issuers whose servers gave no answer, and until when they are left alone.</summary>
    private readonly ConcurrentDictionary<string, Outage> _outages = new(StringComparer.Ordinal);

    private readonly ConcurrentDictionary<string, BlockingCallSlots> _slots = new(StringComparer.Ordinal);

    private sealed record Outage(DateTimeOffset Until, string Reason);

    /// <summary>What the chain engine found: revoked, or the statuses it could not learn (null when it learnt all).</summary>
    private readonly record struct Findings(bool Revoked, string? Unknown, bool NothingPublished);

    /// <summary>One check: its findings, and how long it waited online (zero when it did not go online).</summary>
    private readonly record struct Checked(Findings Findings, TimeSpan Waited);

    public async ValueTask<RevocationVerdict> CheckAsync(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chainWithoutRoot, CancellationToken cancellationToken)
    {
        var issuer = IssuerKey(certificate);
        if (FromCache(issuer, certificate, chainWithoutRoot) is { } remembered) return Verdict(remembered);

        var slots = _slots.GetOrAdd(issuer, _ => new BlockingCallSlots(ConcurrentChecks));
        // Queued behind checks that found the server silent meanwhile: their finding is this check's too.
        var running = await slots.TryStartAsync(() => FromCache(issuer, certificate, chainWithoutRoot) is { } meanwhile
            ? new Checked(meanwhile, TimeSpan.Zero)
            : Online(certificate, chainWithoutRoot), _options.Timeout * 3, cancellationToken);
        if (running is null)
            return Verdict(new Findings(Revoked: false, $"its issuer's {ConcurrentChecks} checks are all still waiting for its CRL or OCSP server", NothingPublished: false));
        var (findings, waited) = await running;
        if (findings.Unknown is not null && !findings.NothingPublished && waited >= _options.Timeout / 2) Remember(issuer, certificate, findings, waited);
        else if (findings.Unknown is null && waited > TimeSpan.Zero) _outages.TryRemove(issuer, out _);
        return Verdict(findings);
    }

    /// <summary>The findings from .NET's cache alone while the issuer is left alone; null when it is asked.</summary>
    private Findings? FromCache(string issuer, X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chainWithoutRoot)
    {
        if (!_outages.TryGetValue(issuer, out var outage) || trust.Time.GetUtcNow() >= outage.Until || FreshLookups.Required) return null;
        // Offline reads only .NET's cache: no network, nothing to wait for. A status the cache holds stands.
        var cached = Check(certificate, chainWithoutRoot, X509RevocationMode.Offline);
        return cached.Unknown is null ? cached : cached with { Unknown = $"{outage.Reason}; not asked again until {outage.Until.UtcDateTime:u}" };
    }

    private Checked Online(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chainWithoutRoot)
    {
        var started = Stopwatch.GetTimestamp();
        var findings = Check(certificate, chainWithoutRoot, X509RevocationMode.Online);
        return new Checked(findings, Stopwatch.GetElapsedTime(started));
    }

    private void Remember(string issuer, X509Certificate2 certificate, Findings findings, TimeSpan waited)
    {
        var now = trust.Time.GetUtcNow();
        var until = now + _options.Timeout * 3;
        var known = _outages.TryGetValue(issuer, out var before) && now < before.Until;
        _outages[issuer] = new Outage(until, $"the CRL or OCSP server of '{certificate.Issuer}' gave no usable answer in {waited.TotalSeconds:0.#} s ({findings.Unknown})");
        // Once when the outage begins, not once for each check that was already waiting then.
        if (!known) LogServerSilent(certificate.Issuer, waited.TotalSeconds, findings.Unknown!, until);
    }

    /// <summary>
    /// The issuer by name and key: a CA re-keyed under its old name (both generations in use for a
    /// while) has a server of its own, and an outage of one must not leave the other unasked.
    /// </summary>
    private static string IssuerKey(X509Certificate2 certificate)
    {
        var keyId = certificate.Extensions.OfType<X509AuthorityKeyIdentifierExtension>().FirstOrDefault()?.KeyIdentifier;
        return keyId is { } id ? $"{certificate.Issuer}|{Convert.ToHexString(id.Span)}" : certificate.Issuer;
    }

    private Findings Check(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chainWithoutRoot, X509RevocationMode mode)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust.Anchors);
        chain.ChainPolicy.ExtraStore.AddRange(trust.Intermediates);
        foreach (var link in chainWithoutRoot.Skip(1)) chain.ChainPolicy.ExtraStore.Add(link);
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.RevocationMode = mode;
        chain.ChainPolicy.RevocationFlag = X509RevocationFlag.ExcludeRoot;
        chain.ChainPolicy.UrlRetrievalTimeout = _options.Timeout;
        chain.ChainPolicy.VerificationTime = trust.Time.GetUtcNow().UtcDateTime;
        chain.Build(certificate);

        var statuses = chain.ChainElements.SelectMany(e => e.ChainElementStatus).Concat(chain.ChainStatus).ToList();
        if (statuses.Any(s => s.Status.HasFlag(X509ChainStatusFlags.Revoked))) return new Findings(Revoked: true, null, false);
        var unknown = statuses.Where(IsUnknown).ToList();
        if (unknown.Count == 0) return new Findings(Revoked: false, null, false);
        // A certificate that names no CRL and no OCSP responder gets OpenSSL's "unable to get certificate
        // CRL", which reads like a fault; nothing was missed, its issuer publishes nothing to ask.
        var elements = chain.ChainElements.Where(e => e.ChainElementStatus.Any(IsUnknown)).ToList();
        var nothingPublished = elements.Count > 0 && elements.All(e => !PublishesRevocation(e.Certificate));
        return new Findings(Revoked: false, string.Join("; ", unknown.Select(s => s.StatusInformation.Trim()).Distinct()), nothingPublished);
    }

    private RevocationVerdict Verdict(Findings findings)
    {
        if (findings.Revoked) return new RevocationVerdict(RevocationStatus.Revoked, "listed as revoked by its issuer's CRL or OCSP responder");
        if (findings.Unknown is null) return RevocationVerdict.Good("not revoked (CRL/OCSP checked)");
        if (findings.NothingPublished)
            return _options.Mode == RevocationMode.HardFail
                ? new RevocationVerdict(RevocationStatus.Unavailable, NothingPublished)
                : RevocationVerdict.Good($"{NothingPublished}, used under soft-fail") with { SoftFailed = true };
        return _options.Mode == RevocationMode.HardFail
            ? new RevocationVerdict(RevocationStatus.Unavailable, findings.Unknown)
            : RevocationVerdict.Good($"revocation status unknown, used under soft-fail ({findings.Unknown})") with { SoftFailed = true };
    }

    internal const string NothingPublished = "no revocation information published (no CRL distribution point or OCSP responder)";

    private static bool IsUnknown(X509ChainStatus status) =>
        status.Status.HasFlag(X509ChainStatusFlags.RevocationStatusUnknown) || status.Status.HasFlag(X509ChainStatusFlags.OfflineRevocation);

    private static bool PublishesRevocation(X509Certificate2 certificate) =>
        certificate.Extensions[CrlDistributionPointsOid] is not null
        || (certificate.Extensions[AuthorityInformationAccessOid] is X509AuthorityInformationAccessExtension access && access.EnumerateOcspUris().Any());

    private const string CrlDistributionPointsOid = "2.5.29.31";
    private const string AuthorityInformationAccessOid = "1.3.6.1.5.5.7.1.1";

    [LoggerMessage(EventId = 4012, Level = LogLevel.Warning, Message = "Revocation: the CRL or OCSP server of '{Issuer}' gave no usable answer in {Seconds:0.#} s ({Reason}); certificates it issued are checked against cached answers only until {Until}")]
    private partial void LogServerSilent(string issuer, double seconds, string reason, DateTimeOffset until);
}
