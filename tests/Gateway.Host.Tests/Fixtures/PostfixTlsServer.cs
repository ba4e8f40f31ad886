using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// Postfix's smtpd offering STARTTLS with a certificate for localhost and 127.0.0.1 from the
/// world's test CA: the files written into the world's folder, and the main.cf lines naming them.
/// </summary>
internal static class PostfixTlsServer
{
    public static async Task<string[]> SettingsAsync(GatewayWorld world)
    {
        using var certificate = world.Pki.IssueTlsServer("localhost");
        var certificatePath = Path.Combine(world.Root, "postfix-tls.crt");
        var keyPath = Path.Combine(world.Root, "postfix-tls.key");
        await File.WriteAllTextAsync(certificatePath, certificate.ExportCertificatePem());
        await File.WriteAllTextAsync(keyPath, certificate.GetRSAPrivateKey()!.ExportPkcs8PrivateKeyPem());
        return [$"smtpd_tls_cert_file = {certificatePath}", $"smtpd_tls_key_file = {keyPath}", "smtpd_tls_security_level = may"];
    }
}
