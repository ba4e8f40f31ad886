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

    public static TheoryData<string, ContentEncryption, string> Cases => new()
    {
        { "nistP256", ContentEncryption.Aes256Cbc, "ecdh-sha256kdf-aes128wrap" },
        { "nistP256", ContentEncryption.Aes128Gcm, "ecdh-sha256kdf-aes128wrap" },
        { "nistP384", ContentEncryption.Aes128Cbc, "ecdh-sha384kdf-aes256wrap" },
        { "nistP384", ContentEncryption.Aes256Gcm, "ecdh-sha384kdf-aes256wrap" },
        { "nistP521", ContentEncryption.Aes256Cbc, "ecdh-sha512kdf-aes256wrap" },
        { "nistP521", ContentEncryption.Aes256Gcm, "ecdh-sha512kdf-aes256wrap" },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task EcRecipient_OpensTheCopyWithOpenSsl_AsDoesAnRsaRecipientOfTheSameCopy(string curve, ContentEncryption cipher, string keyAgreement)
    {
        using var dora = fixture.Pki.Issue("dora@partner.test", new CertificateOptions { EcCurve = ECCurve.CreateFromFriendlyName(curve) });
        var (output, result) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate],
            [dora.PublicCertificate, fixture.Bob.PublicCertificate], CryptoSettings.Default with { ContentEncryption = cipher });
        var eml = Path.Combine(_folder, "out.eml");
        await File.WriteAllBytesAsync(eml, output);

        Assert.Contains($"keyAgreement:{keyAgreement}", result.Algorithms);
        Assert.Contains("keyTransport:rsaes-pkcs1-v1_5", result.Algorithms);
        foreach (var (identity, name) in new[] { (dora, "dora"), (fixture.Bob, "bob") })
        {
            var files = identity.WriteTo(_folder);
            var opened = await OpenSslCms.DecryptAsync(eml, files.CertificatePath, files.KeyPath);
            Assert.True(opened.Success, $"{name} on {curve}: {opened.Stderr}");
            var signed = Assert.IsType<MimeKit.Cryptography.MultipartSigned>(MimeEntity.Load(new MemoryStream(opened.Content)));
            Assert.Contains("Hello Bob", Assert.IsType<TextPart>(((Multipart)signed[0])[0]).Text);
        }
        var printed = (await OpenSslCms.CmsPrintAsync(eml)).Stdout;
        var (scheme, wrap) = keyAgreement.Split('-') switch { [_, var kdf, var w] => ($"dhSinglePass-stdDH-{kdf}-scheme", $"id-{w.Replace("wrap", "-wrap")}"), _ => ("", "") };
        Assert.Contains(scheme, printed);
        Assert.Contains(wrap, printed);
        // RFC 5652 §6.1 and RFC 5083: EnvelopedData is version 2 with a kari (version 3), AuthEnvelopedData always 0.
        Assert.Contains(cipher is ContentEncryption.Aes256Gcm or ContentEncryption.Aes128Gcm ? "d.authEnvelopedData: \n    version: 0" : "d.envelopedData: \n    version: 2", printed.Replace("\r", ""));
        Assert.Contains("d.kari: \n        version: 3", printed.Replace("\r", ""));
    }

    [Fact]
    public void ACopyToEcRecipientsOnly_NamesNoKeyTransport()
    {
        using var dora = fixture.Pki.Issue("dora@partner.test", new CertificateOptions { EcCurve = ECCurve.NamedCurves.nistP256 });
        var (_, result) = Transform(Serialise(Build()), null, [], [dora.PublicCertificate]);

        Assert.Equal("encrypt:aes-256-cbc keyAgreement:ecdh-sha256kdf-aes128wrap", result.Algorithms);
    }

    [Theory]
    [InlineData("brainpoolP256r1")]
    [InlineData("secP256k1")]
    public void EcCertificate_OnACurveNotWrittenHere_IsNotUsableForEncryption(string curve)
    {
        using var dora = fixture.Pki.Issue("dora@partner.test", new CertificateOptions { EcCurve = ECCurve.CreateFromFriendlyName(curve) });

        var verdict = SmimeCertificateValidator.Validate(dora.PublicCertificate, "dora@partner.test", CertificateUsage.Encryption, fixture.Trust());

        Assert.False(verdict.Usable);
        Assert.Contains(verdict.Problems, p => p.Contains("P-256, P-384 or P-521", StringComparison.Ordinal));
    }

    [Fact]
    public void EcCertificate_WithoutKeyUsage_IsUsableForEncryption()
    {
        using var dora = fixture.Pki.Issue("dora@partner.test", new CertificateOptions { EcCurve = ECCurve.NamedCurves.nistP384, KeyUsage = X509KeyUsageFlags.None });

        var verdict = SmimeCertificateValidator.Validate(dora.PublicCertificate, "dora@partner.test", CertificateUsage.Encryption, fixture.Trust());

        Assert.True(verdict.Usable, string.Join("; ", verdict.Problems));
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
