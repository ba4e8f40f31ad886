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

    /// <summary>
    /// Reads the certificate: a PEM certificate with Tls:KeyPath, a PEM file holding the key and
    /// the certificate (Postfix's smtpd_tls_chain_files form; an encrypted key takes
    /// Tls:CertificatePassword), or a PKCS#12 file. A failure becomes an exception whose message
    /// starts with the key, names the file and never the password; the settings validation calls
    /// this too, so a bad file stops the start before anything listens.
    /// </summary>
    public static X509Certificate2 Load(TlsOptions tls)
    {
        var path = tls.CertificatePath!;
        if (!string.IsNullOrEmpty(tls.KeyPath))
            return Read(() => X509Certificate2.CreateFromPemFile(path, tls.KeyPath), $"Gateway:Smtp:Tls: cannot read the server certificate '{path}' with key '{tls.KeyPath}'");
        var pem = PemText(path);
        if (pem is null)
            return Read(() => X509CertificateLoader.LoadPkcs12FromFile(path, tls.CertificatePassword),
                $"Gateway:Smtp:Tls: cannot read the server certificate '{path}' (not PEM, so read as PKCS#12: wrong Gateway:Smtp:Tls:CertificatePassword, or not a PKCS#12 file)");
        if (pem.Contains("-----BEGIN ENCRYPTED PRIVATE KEY-----", StringComparison.Ordinal))
            return Read(() => X509Certificate2.CreateFromEncryptedPemFile(path, tls.CertificatePassword ?? ""),
                $"Gateway:Smtp:Tls: cannot read the server certificate and its encrypted key from '{path}' (wrong Gateway:Smtp:Tls:CertificatePassword?)");
        if (pem.Contains(" PRIVATE KEY-----", StringComparison.Ordinal))
            return Read(() => X509Certificate2.CreateFromPemFile(path), $"Gateway:Smtp:Tls: cannot read the server certificate and its key from '{path}'");
        throw new CryptographicException($"Gateway:Smtp:Tls:CertificatePath: '{path}' is a PEM certificate without its private key: a PEM certificate needs Gateway:Smtp:Tls:KeyPath, or the key in the same file");
    }

    /// <summary>The file as text when it is PEM (some "-----BEGIN" in it), else null.</summary>
    private static string? PemText(string path)
    {
        var bytes = File.ReadAllBytes(path);
        return bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0 ? System.Text.Encoding.ASCII.GetString(bytes) : null;
    }

    private static X509Certificate2 Read(Func<X509Certificate2> load, string failure)
    {
        try
        {
            return load();
        }
        catch (CryptographicException e)
        {
            throw new CryptographicException($"{failure}: {e.Message}");
        }
    }

    [LoggerMessage(EventId = 1004, Level = LogLevel.Information, Message = "TLS server certificate {File} reloaded: {Subject}, valid until {NotAfter}")]
    private partial void LogReloaded(string file, string subject, DateTime notAfter);

    [LoggerMessage(EventId = 1005, Level = LogLevel.Error, Message = "TLS server certificate {File} changed but cannot be read, the previous one stays in use: {Reason}")]
    private partial void LogReloadFailed(string file, string reason);
}
