using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Certificates;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using MimeKit;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// Recipients with EC certificates: ECDH key agreement (RFC 5753) that openssl, an independent
/// implementation, opens with the recipient's key, on each NIST curve, with AES-CBC and AES-GCM,
/// and beside an RSA recipient of the same copy.
/// </summary>
public sealed class EcdhEnvelopeTests(PkiFixture fixture) : IClassFixture<PkiFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-ecdh-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private async Task<(string Certificate, string Key)> WriteKeyAsync(TestIdentity identity, string name)
    {
        var certificate = Path.Combine(_folder, name + ".crt");
        var key = Path.Combine(_folder, name + ".key");
        await File.WriteAllTextAsync(certificate, identity.CertificatePem);
        await File.WriteAllTextAsync(key, identity.PrivateKeyPem);
        return (certificate, key);
    }

    public static TheoryData<string, ContentEncryption> Cases => new()
    {
        { "nistP256", ContentEncryption.Aes256Cbc },
        { "nistP384", ContentEncryption.Aes128Cbc },
        { "nistP521", ContentEncryption.Aes256Gcm },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EcRecipient_OpensTheCopyWithOpenSsl_AsDoesAnRsaRecipientOfTheSameCopy(string curve, ContentEncryption cipher)
    {
        using var dora = fixture.Pki.Issue("dora@partner.test", new CertificateOptions { EcCurve = ECCurve.CreateFromFriendlyName(curve) });
        var (output, result) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate],
            [dora.PublicCertificate, fixture.Bob.PublicCertificate], CryptoSettings.Default with { ContentEncryption = cipher });
        var eml = Path.Combine(_folder, "out.eml");
        await File.WriteAllBytesAsync(eml, output);

        Assert.Contains("keyAgreement:ecdh-x963kdf-aes256wrap", result.Algorithms);
        Assert.Contains("keyTransport:rsaes-pkcs1-v1_5", result.Algorithms);
        foreach (var (identity, name) in new[] { (dora, "dora"), (fixture.Bob, "bob") })
        {
            var (certificate, key) = await WriteKeyAsync(identity, name);
            var opened = await OpenSslCms.DecryptAsync(eml, certificate, key);
            Assert.True(opened.Success, $"{name} on {curve}: {opened.Stderr}");
            var signed = Assert.IsType<MimeKit.Cryptography.MultipartSigned>(MimeEntity.Load(new MemoryStream(opened.Content)));
            Assert.Contains("Hello Bob", Assert.IsType<TextPart>(((Multipart)signed[0])[0]).Text);
        }
        var printed = await OpenSslCms.CmsPrintAsync(eml);
        Assert.Contains(curve == "nistP256" ? "dhSinglePass-stdDH-sha256kdf-scheme" : curve == "nistP384" ? "dhSinglePass-stdDH-sha384kdf-scheme" : "dhSinglePass-stdDH-sha512kdf-scheme", printed.Stdout);
        Assert.Contains("id-aes256-wrap", printed.Stdout);
    }

    [Fact]
    public void EcCertificate_IsUsableForEncryption_OnlyWithKeyAgreementInItsKeyUsage()
    {
        using var agreeing = fixture.Pki.Issue("dora@partner.test", new CertificateOptions { EcCurve = ECCurve.NamedCurves.nistP256 });
        using var signingOnly = fixture.Pki.Issue("dora@partner.test", new CertificateOptions
        {
            EcCurve = ECCurve.NamedCurves.nistP256, KeyUsage = X509KeyUsageFlags.DigitalSignature,
        });

        Assert.True(SmimeCertificateValidator.Validate(agreeing.PublicCertificate, "dora@partner.test", CertificateUsage.Encryption, fixture.Trust()).Usable);
        var refused = SmimeCertificateValidator.Validate(signingOnly.PublicCertificate, "dora@partner.test", CertificateUsage.Encryption, fixture.Trust());
        Assert.False(refused.Usable);
        Assert.Contains(refused.Problems, p => p.Contains("keyAgreement", StringComparison.Ordinal));
    }
}
