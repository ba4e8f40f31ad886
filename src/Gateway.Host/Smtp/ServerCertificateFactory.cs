using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using SmtpServer;

namespace Gateway.Smtp;

/// <summary>
/// The TLS server certificate, asked for by SmtpServer at each STARTTLS: when the certificate or
/// key file changed on disk (a renewal), it is read again, so no restart is needed. A file that
/// cannot be read keeps the previous certificate in use, and the error is logged naming the file.
/// </summary>
internal sealed partial class ServerCertificateFactory : ICertificateFactory
{
    private readonly TlsOptions _tls;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private X509Certificate2 _certificate;
    private (DateTime, DateTime) _stamp;

    /// <summary>Loads the certificate now, so a wrong file or password stops the start with a clear error.</summary>
    public ServerCertificateFactory(TlsOptions tls, ILogger logger)
    {
        _tls = tls;
        _logger = logger;
        _stamp = Stamp();
        _certificate = Load(tls);
    }

    public X509Certificate GetServerCertificate(ISessionContext sessionContext)
    {
        lock (_lock)
        {
            var stamp = Stamp();
            if (stamp == _stamp) return _certificate;
            try
            {
                _certificate = Load(_tls);
                _stamp = stamp;
                LogReloaded(_tls.CertificatePath!, _certificate.Subject, _certificate.NotAfter);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                // Retried at the next session; the message names the file, never the password.
                LogReloadFailed(_tls.CertificatePath!, e.Message);
            }
            return _certificate;
        }
    }

    private (DateTime, DateTime) Stamp() =>
        (File.GetLastWriteTimeUtc(_tls.CertificatePath!), string.IsNullOrEmpty(_tls.KeyPath) ? default : File.GetLastWriteTimeUtc(_tls.KeyPath));

    /// <summary>Reads the certificate; a failure becomes an exception naming the file and never the password.</summary>
    public static X509Certificate2 Load(TlsOptions tls)
    {
        try
        {
            if (!string.IsNullOrEmpty(tls.KeyPath)) return X509Certificate2.CreateFromPemFile(tls.CertificatePath!, tls.KeyPath);
            return X509CertificateLoader.LoadPkcs12FromFile(tls.CertificatePath!, tls.CertificatePassword);
        }
        catch (CryptographicException e)
        {
            throw new CryptographicException($"Gateway:Smtp:Tls: cannot read the server certificate '{tls.CertificatePath}'" +
                (string.IsNullOrEmpty(tls.KeyPath) ? " (wrong Gateway:Smtp:Tls:CertificatePassword, or not a PKCS#12 file)" : $" with key '{tls.KeyPath}'") + $": {e.Message}");
        }
    }

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "TLS server certificate {File} reloaded: {Subject}, valid until {NotAfter}")]
    private partial void LogReloaded(string file, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "TLS server certificate {File} changed but cannot be read, the previous one stays in use: {Reason}")]
    private partial void LogReloadFailed(string file, string reason);
}
