using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Inbound;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing;
using Gateway.Testing.Pki;

namespace Gateway.Tests.Inbound;

/// <summary>
/// Inbound mail to a user whose key is EC (the built-in CA's EcdsaP256, or an EC PKCS#12 in the
/// folder): ECDH key agreement made by openssl, an independent implementation (its default SHA-1
/// KDF and SHA-256, AES-CBC and AES-GCM), and by our own writer, is opened with the user's key.
/// </summary>
public sealed class KeyAgreementOpeningTests(PkiFixture pki) : IClassFixture<PkiFixture>, IDisposable
{
    private const string Entity = "Content-Type: text/plain; charset=us-ascii\r\n\r\nFor Eve's EC key.\r\n";
    private const string Outer = "From: Bob <bob@partner.test>\r\nTo: Eve <eve@example.test>\r\nSubject: ec\r\n";
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-ecdh-in-").FullName;
    private readonly TestIdentity _eve = pki.Pki.Issue("eve@example.test", new CertificateOptions { EcCurve = ECCurve.NamedCurves.nistP256 });

    public void Dispose()
    {
        _eve.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private Func<string, IReadOnlyList<X509Certificate2>> Keys() => address => address switch
    {
        "eve@example.test" => [_eve.Certificate],
        "alice@example.test" => [pki.Alice.Certificate],
        _ => [],
    };

    private async Task<byte[]> EncryptedByOpenSslAsync(string cipher, params string[] keyOptions)
    {
        var entity = Path.Combine(_folder, "entity.txt");
        var eve = Path.Combine(_folder, "eve.crt");
        var alice = Path.Combine(_folder, "alice.crt");
        var output = Path.Combine(_folder, "out.eml");
        await File.WriteAllTextAsync(entity, Entity);
        await File.WriteAllTextAsync(eve, _eve.CertificatePem);
        await File.WriteAllTextAsync(alice, pki.Alice.CertificatePem);
        var result = await ToolProcess.RunAsync("openssl",
            ["cms", "-encrypt", "-binary", "-" + cipher, "-in", entity, "-out", output, "-recip", eve, .. keyOptions, "-recip", alice]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var smime = (await File.ReadAllTextAsync(output)).Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        return Encoding.ASCII.GetBytes(Outer + smime);
    }

    [Theory]
    [InlineData("aes-256-cbc", "keyAgreement:ecdh-sha1kdf")]
    [InlineData("aes-128-cbc", "keyAgreement:ecdh-sha256kdf", "-keyopt", "ecdh_kdf_md:sha256")]
    [InlineData("aes-256-gcm", "keyAgreement:ecdh-sha1kdf")]
    [InlineData("aes-128-gcm", "keyAgreement:ecdh-sha256kdf", "-keyopt", "ecdh_kdf_md:sha256")]
    public async Task OpenSslsKeyAgreement_ToOurEcUser_IsOpened_AlongsideAnRsaRecipient(string cipher, string keyAgreement, params string[] keyOptions)
    {
        var message = await EncryptedByOpenSslAsync(cipher, keyOptions);

        var result = EnvelopeOpener.Open(message, ["eve@example.test", "alice@example.test"], Keys(), "gw", requireSignature: false);

        Assert.True(result.Outcome == DecryptionOutcome.Decrypted, result.Reason);
        Assert.Equal($"encrypt:{cipher} {keyAgreement}", result.Algorithms);
        Assert.EndsWith("\r\n\r\nFor Eve's EC key.\r\n", Encoding.ASCII.GetString(result.Message));
    }

    [Theory]
    [InlineData(ContentEncryption.Aes256Cbc)]
    [InlineData(ContentEncryption.Aes256Gcm)]
    public void OurOwnKeyAgreement_IsOpenedByTheEcKey(ContentEncryption cipher)
    {
        using var envelope = new MemoryStream();
        var crypto = CryptoSettings.Default with { ContentEncryption = cipher };
        var plaintext = new MemoryStream(Encoding.ASCII.GetBytes(Entity));
        if (crypto.IsAuthenticated) AuthEnvelopedDataWriter.Write(plaintext, [_eve.PublicCertificate], crypto, envelope);
        else EnvelopedDataWriter.Write(plaintext, [_eve.PublicCertificate], crypto, envelope);
        var type = crypto.IsAuthenticated ? "authEnveloped-data" : "enveloped-data";
        var message = Encoding.ASCII.GetBytes(Outer + $"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type={type}\r\n" +
            "Content-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String(envelope.ToArray(), Base64FormattingOptions.InsertLineBreaks) + "\r\n");

        var result = EnvelopeOpener.Open(message, ["eve@example.test"], Keys(), "gw", requireSignature: false);

        Assert.True(result.Outcome == DecryptionOutcome.Decrypted, result.Reason);
        Assert.EndsWith("keyAgreement:ecdh-sha256kdf", result.Algorithms);
    }

    [Fact]
    public async Task AnotherEcKey_OpensNothing_AndTheMessagePassesEncrypted()
    {
        using var other = pki.Pki.Issue("eve@example.test", new CertificateOptions { EcCurve = ECCurve.NamedCurves.nistP256 });
        var message = await EncryptedByOpenSslAsync("aes-256-cbc");

        var result = EnvelopeOpener.Open(message, ["eve@example.test"], _ => [other.Certificate], "gw", requireSignature: false);

        Assert.Equal(DecryptionOutcome.NotForOurKeys, result.Outcome);
        Assert.Same(message, result.Message);
    }
}
