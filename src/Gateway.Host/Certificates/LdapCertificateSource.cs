using System.DirectoryServices.Protocols;
using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;

namespace Gateway.Certificates;

/// <summary>
/// One LDAP directory: searches BaseDn with the operator's filter (the address escaped per RFC
/// 4515) and reads userCertificate;binary (DER) and userSMIMECertificate (a PKCS#7 certs-only
/// blob). A directory that cannot be reached, refuses the bind or does not answer within Timeout
/// is a temporary failure, never "no certificate": the recipient waits instead of getting plaintext.
/// On Linux System.DirectoryServices.Protocols uses the OpenLDAP client library (libldap-2.5-0 on
/// Debian 12, libldap2 on newer systems), which also does the TLS (its CA list: LDAPTLS_CACERT or /etc/ldap/ldap.conf).
/// </summary>
public sealed partial class LdapCertificateSource(LdapDirectoryOptions settings, ILogger<LdapCertificateSource> logger) : ICertificateSource
{
    private static readonly string[] Attributes = ["userCertificate;binary", "userSMIMECertificate", "userSMIMECertificate;binary"];

    public string Name => "ldap:" + settings.EffectiveName;

    public async ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        // A directory holds public certificates: never a signing identity of our own senders.
        if (usage == CertificateUsage.Signing) return CertificateLookup.None;
        var filter = LdapFilter.Format(settings.Filter, address);
        try
        {
            // The OpenLDAP calls block; connect + bind + search each have their own Timeout, and
            // this bound covers a library call that ignores it.
            var values = await Task.Run(() => Search(filter), cancellationToken).WaitAsync(settings.Timeout * 3, cancellationToken);
            return CertificateLookup.Found(Candidates(values, address));
        }
        catch (TimeoutException)
        {
            return Unavailable(address, $"no answer within {settings.Timeout}");
        }
        catch (LdapException e)
        {
            return Unavailable(address, $"{e.Message.TrimEnd('.')} (LDAP error {e.ErrorCode})");
        }
        catch (DirectoryOperationException e)
        {
            return Unavailable(address, $"{e.Response?.ResultCode.ToString() ?? "error"}: {e.Message.TrimEnd('.')}");
        }
    }

    private List<(string Attribute, byte[] Value)> Search(string filter)
    {
        var url = new Uri(settings.Url);
        var secure = url.Scheme == "ldaps";
        var port = url.Port > 0 ? url.Port : secure ? 636 : 389;
        using var connection = new LdapConnection(new LdapDirectoryIdentifier(url.Host, port, fullyQualifiedDnsHostName: false, connectionless: false));
        connection.SessionOptions.ProtocolVersion = 3;
        connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
        if (secure) connection.SessionOptions.SecureSocketLayer = true;
        connection.Timeout = settings.Timeout;
        if (settings.StartTls) connection.SessionOptions.StartTransportLayerSecurity(null);
        if (string.IsNullOrEmpty(settings.BindDn))
        {
            connection.AuthType = AuthType.Anonymous;
            connection.Bind();
        }
        else
        {
            connection.AuthType = AuthType.Basic;
            connection.Bind(new NetworkCredential(settings.BindDn, BindPassword()));
        }

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

    private string? BindPassword() =>
        string.IsNullOrEmpty(settings.BindPasswordFile) ? settings.BindPassword : File.ReadLines(settings.BindPasswordFile).FirstOrDefault() ?? string.Empty;

    private static bool IsCertificateAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    [LoggerMessage(EventId = 4010, Level = LogLevel.Warning, Message = "Certificate directory {Source} unavailable for {Address}: {Reason}")]
    private partial void LogUnavailable(string source, string address, string reason);

    [LoggerMessage(EventId = 4011, Level = LogLevel.Warning, Message = "Certificate directory {Source}: an unreadable {Attribute} value for {Address} was skipped: {Reason}")]
    private partial void LogUnreadableValue(string source, string address, string attribute, string reason);
}
