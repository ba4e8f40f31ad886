using System.Security.Cryptography;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Interop;

/// <summary>
/// A partner with an EC certificate (P-256, keyAgreement), whose mail policy requires encryption:
/// before, the certificate was refused ("RSA only") and so was the mail; now the copy is encrypted
/// to it by ECDH key agreement, and openssl opens it with the partner's key.
/// </summary>
public sealed class EcRecipientTests : IDisposable
{
    private const string Erin = "erin@partner.test"; // partner.test requires encryption in the sample policy
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task MailToAPartnerWithAnEcCertificate_IsEncryptedByKeyAgreement_AndOpenSslOpensIt()
    {
        using var erin = _world.Pki.Issue(Erin, new CertificateOptions { EcCurve = ECCurve.NamedCurves.nistP256 });
        var files = erin.WriteTo(Path.Combine(_world.Root, "erin-keys"), GatewayWorld.Pkcs12Password);
        File.Copy(files.CertificatePath, Path.Combine(_world.Certificates, "erin.crt"));
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", Erin, "ec", "For Erin's EC key."), "alice@example.test", Erin);

        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", Erin));
        Assert.Equal("signed+encrypted", delivered.GetProperty("action").GetString());
        Assert.Contains("keyAgreement:ecdh-sha256kdf-aes128wrap", delivered.GetProperty("algorithms").GetString());
        var eml = _world.OutboxFileOf(delivered);
        var opened = await OpenSslCms.DecryptAsync(eml, files.CertificatePath, files.KeyPath);
        Assert.True(opened.Success, opened.Stderr);
        Assert.Contains("For Erin's EC key.", opened.ContentText);
    }
}
