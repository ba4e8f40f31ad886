using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Smtp;

/// <summary>A self-signed TLS server certificate for localhost, as a PKCS#12 file readable by its owner only.</summary>
internal static class TestServerCertificate
{
    public const string Password = "tls";

    public static string Write(string folder, string name = "server.p12", string subject = "CN=localhost, O=Gateway TEST ONLY")
    {
        var path = Path.Combine(folder, name);
        using var key = RSA.Create(2048);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        File.WriteAllBytes(path, certificate.Export(X509ContentType.Pkcs12, Password));
        return Gateway.Testing.OwnerOnly.Apply(path);
    }
}
