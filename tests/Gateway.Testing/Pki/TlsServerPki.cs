using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Testing.Pki;

/// <summary>
/// A throw-away CA and a TLS server certificate it issued, as PEM files in a folder of their own
/// (ca/ca.crt, server.crt, server.key with mode 0600). TEST ONLY: made fresh for each test.
/// </summary>
public sealed record TlsServerPki(string CaFolder, string CaCertificatePath, string CertificatePath, string KeyPath)
{
    /// <param name="ipAddress">The address the certificate names (subjectAltName iPAddress), or null.</param>
    /// <param name="dnsName">The host name it names (subjectAltName dNSName), or null.</param>
    public static TlsServerPki Write(string folder, string? ipAddress = "127.0.0.1", string? dnsName = null)
    {
        Directory.CreateDirectory(Path.Combine(folder, "ca"));
        var now = DateTimeOffset.UtcNow;
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest("CN=Gateway TEST ONLY TLS CA", caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(now.AddDays(-2), now.AddDays(60));

        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + (dnsName ?? ipAddress), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        if (ipAddress is not null) names.AddIpAddress(System.Net.IPAddress.Parse(ipAddress));
        if (dnsName is not null) names.AddDnsName(dnsName);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(ca, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        using var server = request.Create(ca, now.AddDays(-1), now.AddDays(30), RandomNumberGenerator.GetBytes(16));

        var pki = new TlsServerPki(Path.Combine(folder, "ca"), Path.Combine(folder, "ca", "ca.crt"), Path.Combine(folder, "server.crt"), Path.Combine(folder, "server.key"));
        File.WriteAllText(pki.CaCertificatePath, ca.ExportCertificatePem());
        File.WriteAllText(pki.CertificatePath, server.ExportCertificatePem());
        File.WriteAllText(pki.KeyPath, key.ExportPkcs8PrivateKeyPem());
        OwnerOnly.Apply(pki.KeyPath);
        return pki;
    }
}
