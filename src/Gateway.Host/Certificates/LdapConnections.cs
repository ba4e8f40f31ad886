using System.DirectoryServices.Protocols;
using System.Net;
using Gateway.Configuration;

namespace Gateway.Certificates;

/// <summary>
/// Opens and binds a connection to one directory of Gateway:Certificates:Ldap: ldap:// or
/// ldaps://, StartTLS when asked (the server's certificate verified against the system's CAs or
/// TrustedCertificates), an anonymous or a simple bind, every step bounded by its Timeout. Shared by the certificate lookups and the CA's group eligibility, so both reach the
/// directory the same way.
/// </summary>
public static class LdapConnections
{
    public static LdapConnection Open(LdapDirectoryOptions settings)
    {
        var url = new Uri(settings.Url);
        var secure = url.Scheme == "ldaps";
        var port = url.Port > 0 ? url.Port : secure ? 636 : 389;
        var connection = LdapCallTimeout.Create(settings.Timeout, () => new LdapConnection(new LdapDirectoryIdentifier(url.Host, port, fullyQualifiedDnsHostName: false, connectionless: false)));
        try
        {
            connection.SessionOptions.ProtocolVersion = 3;
            connection.SessionOptions.ReferralChasing = ReferralChasingOptions.None;
            if (secure) connection.SessionOptions.SecureSocketLayer = true;
            if (!string.IsNullOrEmpty(settings.TrustedCertificates) && !OperatingSystem.IsWindows()) // refused at start on Windows
            {
                // Applies to this connection's own TLS context, which must be made anew after it is set.
                connection.SessionOptions.TrustedCertificatesDirectory = settings.TrustedCertificates;
                connection.SessionOptions.StartNewTlsSessionContext();
            }
            connection.Timeout = settings.Timeout;
            if (settings.StartTls)
            {
                // On Linux the connection is only made by the first bind: StartTLS before it fails with
                // "server unavailable" (LDAP error 81). An anonymous bind carries no secret; the real one
                // comes after TLS is up, and a handshake that fails (an untrusted certificate) throws here.
                connection.AuthType = AuthType.Anonymous;
                try
                {
                    connection.Bind();
                }
                catch (Exception e) when (RefusedAnonymous(e))
                {
                    // The server answered (it refuses anonymous binds, or anything before TLS): connected all the same.
                }
                connection.SessionOptions.StartTransportLayerSecurity(null);
            }
            if (string.IsNullOrEmpty(settings.BindDn))
            {
                connection.AuthType = AuthType.Anonymous;
                connection.Bind();
            }
            else
            {
                connection.AuthType = AuthType.Basic;
                connection.Bind(new NetworkCredential(settings.BindDn, BindPassword(settings)));
            }
            return connection;
        }
        catch
        {
            connection.Dispose();
            throw;
        }
    }

    // RFC 4511 result codes a server gives an anonymous bind it does not allow.
    private const int ConfidentialityRequired = 13;
    private const int InappropriateAuthentication = 48;
    private const int InsufficientAccess = 50;
    private const int UnwillingToPerform = 53;
    private const int ClientTimeout = 85; // LDAP_TIMEOUT: OpenLDAP gave up waiting (LdapCallTimeout)

    /// <summary>
    /// The server answered the anonymous bind with a refusal: it is connected. On Linux .NET throws
    /// a DirectoryOperationException without a response for a result code, an LdapException with
    /// the code for some; a transport failure is an LdapException 81 or 91, and stops the open.
    /// </summary>
    private static bool RefusedAnonymous(Exception e) =>
        e is DirectoryOperationException or LdapException { ErrorCode: ConfidentialityRequired or InappropriateAuthentication or InsufficientAccess or UnwillingToPerform };

    /// <summary>
    /// Runs a blocking directory operation on a thread of its own (<see cref="BlockingNetworkCall"/>).
    /// The OpenLDAP calls have their own Timeout each (connect, bind, search); this bound covers a
    /// library call that ignores it.
    /// </summary>
    public static Task<T> RunAsync<T>(LdapDirectoryOptions settings, Func<T> operation, CancellationToken cancellationToken) =>
        Bounded(BlockingNetworkCall.RunAsync(operation, cancellationToken), settings, cancellationToken);

    /// <summary>A directory operation waited for no longer than three Timeouts (connect, bind, search).</summary>
    public static Task<T> Bounded<T>(Task<T> operation, LdapDirectoryOptions settings, CancellationToken cancellationToken) =>
        operation.WaitAsync(settings.Timeout * 3, cancellationToken);

    /// <summary>Why a directory operation failed, in words for the audit and the log; null when the exception is not a directory failure.</summary>
    public static string? Failure(Exception exception, LdapDirectoryOptions settings) => exception switch
    {
        TimeoutException or LdapException { ErrorCode: ClientTimeout } => $"no answer within {settings.Timeout}",
        DirectoryNotFoundException => $"Gateway:Certificates:Ldap TrustedCertificates folder '{settings.TrustedCertificates}' is gone",
        LdapException e => $"{e.Message.TrimEnd('.')} (LDAP error {e.ErrorCode})",
        DirectoryOperationException e => $"{e.Response?.ResultCode.ToString() ?? "error"}: {e.Message.TrimEnd('.')}",
        _ => null,
    };

    private static string? BindPassword(LdapDirectoryOptions settings) =>
        string.IsNullOrEmpty(settings.BindPasswordFile) ? settings.BindPassword : SecretFile.FirstLine(settings.BindPasswordFile);
}
