using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Certificates;

/// <summary>
/// Checks revocation with .NET's chain engine: CRLs from the certificates' distribution points
/// and OCSP from their authority information access, fetched over HTTP with a timeout and cached
/// by .NET until their next update. Only configured anchors are trusted; issuers are never
/// downloaded. Runs off the worker's thread because the fetch blocks.
/// </summary>
public sealed class ChainRevocationChecker(IOptions<GatewayOptions> options, TrustContext trust) : IRevocationChecker
{
    private readonly RevocationOptions _options = options.Value.Certificates.Revocation;

    public ValueTask<RevocationVerdict> CheckAsync(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chainWithoutRoot, CancellationToken cancellationToken) =>
        new(Task.Run(() => Check(certificate, chainWithoutRoot), cancellationToken));

    private RevocationVerdict Check(X509Certificate2 certificate, IReadOnlyList<X509Certificate2> chainWithoutRoot)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust.Anchors);
        chain.ChainPolicy.ExtraStore.AddRange(trust.Intermediates);
        foreach (var link in chainWithoutRoot.Skip(1)) chain.ChainPolicy.ExtraStore.Add(link);
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.RevocationMode = X509RevocationMode.Online;
        chain.ChainPolicy.RevocationFlag = X509RevocationFlag.ExcludeRoot;
        chain.ChainPolicy.UrlRetrievalTimeout = _options.Timeout;
        chain.ChainPolicy.VerificationTime = trust.Time.GetUtcNow().UtcDateTime;
        chain.Build(certificate);

        var statuses = chain.ChainElements.SelectMany(e => e.ChainElementStatus).Concat(chain.ChainStatus).ToList();
        if (statuses.Any(s => s.Status.HasFlag(X509ChainStatusFlags.Revoked)))
            return new RevocationVerdict(RevocationStatus.Revoked, "listed as revoked by its issuer's CRL or OCSP responder");
        var unknown = statuses.Where(IsUnknown).ToList();
        if (unknown.Count == 0) return RevocationVerdict.Good("not revoked (CRL/OCSP checked)");
        // A certificate that names no CRL and no OCSP responder gets OpenSSL's "unable to get certificate
        // CRL", which reads like a fault; nothing was missed, its issuer publishes nothing to ask.
        var elements = chain.ChainElements.Where(e => e.ChainElementStatus.Any(IsUnknown)).ToList();
        if (elements.Count > 0 && elements.All(e => !PublishesRevocation(e.Certificate)))
            return _options.Mode == RevocationMode.HardFail
                ? new RevocationVerdict(RevocationStatus.Unavailable, NothingPublished)
                : RevocationVerdict.Good($"{NothingPublished}, used under soft-fail") with { SoftFailed = true };
        var detail = string.Join("; ", unknown.Select(s => s.StatusInformation.Trim()).Distinct());
        return _options.Mode == RevocationMode.HardFail
            ? new RevocationVerdict(RevocationStatus.Unavailable, detail)
            : RevocationVerdict.Good($"revocation status unknown, used under soft-fail ({detail})") with { SoftFailed = true };
    }

    internal const string NothingPublished = "no revocation information published (no CRL distribution point or OCSP responder)";

    private static bool IsUnknown(X509ChainStatus status) =>
        status.Status.HasFlag(X509ChainStatusFlags.RevocationStatusUnknown) || status.Status.HasFlag(X509ChainStatusFlags.OfflineRevocation);

    private static bool PublishesRevocation(X509Certificate2 certificate) =>
        certificate.Extensions[CrlDistributionPointsOid] is not null
        || (certificate.Extensions[AuthorityInformationAccessOid] is X509AuthorityInformationAccessExtension access && access.EnumerateOcspUris().Any());

    private const string CrlDistributionPointsOid = "2.5.29.31";
    private const string AuthorityInformationAccessOid = "1.3.6.1.5.5.7.1.1";
}
