using System.Security.Cryptography.Pkcs;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Tests.Interop;

/// <summary>
/// The signer's certificate is under the signature (ESS signingCertificateV2, RFC 5035): a verifier
/// handed another certificate with the same issuer, serial number and key, naming someone else,
/// refuses it. The SignerInfo names its certificate only by issuer and serial, outside what is signed.
/// OpenSSL checks the attribute in its CAdES mode (`cms -verify -cades`, which also requires it).
/// </summary>
public sealed class SigningCertificateBindingTests : IDisposable
{
    private static readonly string[] Cades = ["-cades"];
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task SignatureBindsItsCertificate_SoOpenSslRefusesATwinNamingSomeoneElse()
    {
        string eml;
        await using (var gateway = await RunningGateway.StartAsync(_world))
        {
            await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "bound", "Signed by Alice.\r\n"), "alice@example.test", "dave@elsewhere.test");
            eml = _world.OutboxFileOf(await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test")));
        }
        var structure = await OpenSslCms.CmsPrintAsync(eml);
        Assert.True(structure.Success, structure.Stderr);
        Assert.Contains("signingCertificateV2", structure.Stdout);
        var verified = await OpenSslCms.VerifyAsync(eml, _world.CaCertificatePath, Cades);
        Assert.True(verified.Success, verified.Stderr);
        await using var gpgsm = await Gpgsm.CreateAsync(_world.CaCertificatePath);
        var byGpgsm = await gpgsm.VerifyDetachedAsync(eml);
        Assert.True(byGpgsm.GoodSignature && byGpgsm.Trusted, byGpgsm.Status + byGpgsm.Stderr);

        // The same message written again with its own certificate still verifies: the rewrite itself changes nothing.
        var rewritten = WithSignerCertificate(eml, replacement: null);
        var control = await OpenSslCms.VerifyAsync(rewritten, _world.CaCertificatePath, Cades);
        Assert.True(control.Success, control.Stderr);

        // A twin: same CA, serial number and key, another name. Its key verifies the signature
        // value; only the signed hash of the real certificate tells them apart.
        var twin = _world.Pki.Twin(_world.Alice.PublicCertificate, "ceo@example.test");
        var substituted = await OpenSslCms.VerifyAsync(WithSignerCertificate(eml, twin), _world.CaCertificatePath, Cades);
        Assert.False(substituted.Success, "openssl verified the signature with a substituted certificate naming ceo@example.test");
        Assert.Contains("ess cert id not found", substituted.Stderr);
    }

    /// <summary>The message with its signature's certificate set holding <paramref name="replacement"/> instead of the signer's (the same when null).</summary>
    private string WithSignerCertificate(string eml, System.Security.Cryptography.X509Certificates.X509Certificate2? replacement)
    {
        var message = MimeMessage.Load(eml);
        var signature = (MimePart)((MultipartSigned)message.Body!)[1]!;
        using var der = new MemoryStream();
        signature.Content!.DecodeTo(der);
        var cms = new SignedCms();
        cms.Decode(der.ToArray());
        if (replacement is not null)
        {
            cms.RemoveCertificate(cms.Certificates.Find(System.Security.Cryptography.X509Certificates.X509FindType.FindByThumbprint, _world.Alice.Certificate.Thumbprint, false)[0]);
            cms.AddCertificate(replacement);
        }
        signature.Content = new MimeContent(new MemoryStream(cms.Encode()), ContentEncoding.Default);
        var path = Path.Combine(_world.Root, $"rewritten-{Guid.NewGuid():N}.eml");
        using (var output = File.Create(path)) message.WriteTo(output);
        return path;
    }
}
