using System.DirectoryServices.Protocols;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Mail;
using Microsoft.Extensions.Logging;

namespace Gateway.Certificates;

/// <summary>
/// One LDAP directory: searches BaseDn with the operator's filter (the address escaped per RFC
/// 4515) and reads userCertificate;binary (DER) and userSMIMECertificate (a PKCS#7 certs-only
/// blob). A directory that cannot be reached, refuses the bind or does not answer within Timeout
/// is a temporary failure, never "no certificate": the recipient waits instead of getting plaintext.
/// On Linux System.DirectoryServices.Protocols uses the OpenLDAP client library (libldap-2.5-0 on
/// Debian 12, libldap2 on newer systems), which also does the TLS (its CAs: Ldap:N:TrustedCertificates,
/// or TLS_CACERT in /etc/ldap/ldap.conf; see <see cref="LdapConnections"/>).
/// A directory that failed is not asked again for as long as one failed lookup can take (three
/// times its Timeout: connect, bind, search): lookups in that time are temporary failures at once.
/// A message to 200 recipients would otherwise wait for 200 timeouts in a row, holding a worker
/// for half an hour, while every one of them is deferred all the same. Not for a message past
/// its lookup grace (<see cref="FreshLookups"/>): there "unavailable" decides, so the directory
/// is asked. At most <see cref="ConcurrentSearches"/> searches run at once per directory, each
/// blocking a thread of its own until the library returns (<see cref="BlockingCallSlots"/>);
/// a lookup that finds them all still waiting after three Timeouts is a temporary failure.
/// </summary>
public sealed partial class LdapCertificateSource(LdapDirectoryOptions settings, ILogger<LdapCertificateSource> logger, TimeProvider? time = null) : ICertificateSource
{
    private static readonly string[] Attributes = ["userCertificate;binary", "userSMIMECertificate", "userSMIMECertificate;binary"];

    /// <summary>The OpenLDAP client blocks its thread: 4 workers of 8 lookups each would hold 32 threads for a directory that never answers.</summary>
    private const int ConcurrentSearches = 4;

    private readonly BlockingCallSlots _searches = new(ConcurrentSearches);

    private readonly TimeProvider _time = time ?? TimeProvider.System;

    /// <summary>The last failure and until when the directory is left alone; null while it answers.</summary>
    private volatile Outage? _outage;

    private sealed record Outage(DateTimeOffset Until, string Reason);

    public string Name => "ldap:" + settings.EffectiveName;

    public async ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        // A directory holds public certificates: never a signing identity of our own senders.
        if (usage == CertificateUsage.Signing) return CertificateLookup.None;
        if (LeftAlone() is { } before) return before;
        var filter = LdapFilter.FormatAny(settings.Filter, MailAddress.Spellings(address));
        var bound = settings.Timeout * 3;
        try
        {
            // Queued behind searches that failed meanwhile: their failure is this lookup's answer too,
            // or 8 lookups queued behind 4 searches of a silent directory wait for two rounds of timeouts.
            var search = await _searches.TryStartAsync(() => LeftAlone() ?? CertificateLookup.Found(Candidates(Search(filter), address)), bound, cancellationToken);
            if (search is null)
            {
                var reason = $"its {_searches.Count} searches are all still waiting for answers";
                _outage = new Outage(_time.GetUtcNow() + bound, reason);
                return Unavailable(address, reason);
            }
            var lookup = await LdapConnections.Bounded(search, settings, cancellationToken);
            if (!lookup.Failed) _outage = null;
            return lookup;
        }
        catch (Exception e) when (LdapConnections.Failure(e, settings) is { } reason)
        {
            _outage = new Outage(_time.GetUtcNow() + bound, reason);
            return Unavailable(address, reason);
        }
    }

    private CertificateLookup? LeftAlone() => _outage is { } outage && _time.GetUtcNow() < outage.Until && !FreshLookups.Required
        ? CertificateLookup.Unavailable($"{outage.Reason} (not asked again until {outage.Until.UtcDateTime:u})")
        : null;

    private List<(string Attribute, byte[] Value)> Search(string filter)
    {
        using var connection = LdapConnections.Open(settings);
        var request = new SearchRequest(settings.BaseDn, filter, SearchScope.Subtree, Attributes)
        {
            SizeLimit = settings.SizeLimit,
            TimeLimit = settings.Timeout,
        };
        SearchResponse response;
        try
        {
            response = (SearchResponse)connection.SendRequest(request, settings.Timeout);
        }
        catch (DirectoryOperationException e) when (e.Response is SearchResponse partial && partial.ResultCode == ResultCode.SizeLimitExceeded)
        {
            response = partial; // more entries than SizeLimit: use those that came
        }
        catch (DirectoryOperationException e) when (e.Response?.ResultCode == ResultCode.NoSuchObject)
        {
            return []; // the base DN does not exist: nothing there, which is an answer
        }

        var values = new List<(string, byte[])>();
        foreach (SearchResultEntry entry in response.Entries)
        {
            foreach (string name in entry.Attributes.AttributeNames)
            {
                foreach (var value in entry.Attributes[name].GetValues(typeof(byte[])))
                    values.Add((name, (byte[])value));
            }
        }
        return values;
    }

    private List<CertificateCandidate> Candidates(List<(string Attribute, byte[] Value)> values, string address)
    {
        var candidates = new List<CertificateCandidate>();
        foreach (var (attribute, value) in values)
        {
            try
            {
                if (attribute.StartsWith("userSMIMECertificate", StringComparison.OrdinalIgnoreCase))
                {
                    // A PKCS#7 certs-only SignedData: the end entity and usually its chain.
                    var cms = new SignedCms();
                    cms.Decode(value);
                    var authorities = cms.Certificates.Where(IsCertificateAuthority).ToList();
                    candidates.AddRange(cms.Certificates.Where(c => !IsCertificateAuthority(c)).Select(c => new CertificateCandidate(c, Name, authorities)));
                }
                else
                {
                    candidates.Add(new CertificateCandidate(X509CertificateLoader.LoadCertificate(value), Name));
                }
            }
            catch (CryptographicException e)
            {
                LogUnreadableValue(Name, address, attribute, e.Message);
            }
        }
        return candidates;
    }

    private CertificateLookup Unavailable(string address, string reason)
    {
        LogUnavailable(Name, address, reason);
        return CertificateLookup.Unavailable(reason);
    }

    private static bool IsCertificateAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "Certificate directory {Source} unavailable for {Address}: {Reason}")]
    private partial void LogUnavailable(string source, string address, string reason);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "Certificate directory {Source}: an unreadable {Attribute} value for {Address} was skipped: {Reason}")]
    private partial void LogUnreadableValue(string source, string address, string attribute, string reason);
}
