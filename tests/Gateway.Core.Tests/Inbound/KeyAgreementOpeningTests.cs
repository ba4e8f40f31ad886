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
        // -keyid (recipients by subject key identifier) goes first; -keyopt applies to the -recip before it.
        var result = await ToolProcess.RunAsync("openssl",
            ["cms", "-encrypt", "-binary", "-" + cipher, .. keyOptions.Where(o => o == "-keyid"), "-in", entity, "-out", output, "-recip", eve,
             .. keyOptions.Where(o => o != "-keyid"), "-recip", alice]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var smime = (await File.ReadAllTextAsync(output)).Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        return Encoding.ASCII.GetBytes(Outer + smime);
    }

    [Theory]
    [InlineData("aes-256-cbc", "keyAgreement:ecdh-sha1kdf-aes256wrap")]
    [InlineData("aes-256-cbc", "keyAgreement:ecdh-sha1kdf-aes256wrap", "-keyid")]
    [InlineData("aes-128-cbc", "keyAgreement:ecdh-sha256kdf-aes128wrap", "-keyopt", "ecdh_kdf_md:sha256")]
    [InlineData("aes-256-gcm", "keyAgreement:ecdh-sha1kdf-aes256wrap")]
    [InlineData("aes-128-gcm", "keyAgreement:ecdh-sha256kdf-aes128wrap", "-keyopt", "ecdh_kdf_md:sha256")]
    public async Task OpenSslsKeyAgreement_ToOurEcUser_IsOpened_AlongsideAnRsaRecipient(string cipher, string keyAgreement, params string[] keyOptions)
    {
        var message = await EncryptedByOpenSslAsync(cipher, keyOptions);

        var result = EnvelopeOpener.Open(message, ["eve@example.test", "alice@example.test"], Keys(), "gw", requireSignature: false);

        Assert.True(result.Outcome == DecryptionOutcome.Decrypted, result.Reason);
        Assert.Equal($"encrypt:{cipher} {keyAgreement}", result.Algorithms);
        Assert.EndsWith("\r\n\r\nFor Eve's EC key.\r\n", Encoding.ASCII.GetString(result.Message));
    }

    [Theory]
    [InlineData("nistP256", ContentEncryption.Aes256Cbc, "ecdh-sha256kdf-aes128wrap")]
    [InlineData("nistP256", ContentEncryption.Aes256Gcm, "ecdh-sha256kdf-aes128wrap")]
    [InlineData("nistP384", ContentEncryption.Aes128Cbc, "ecdh-sha384kdf-aes256wrap")]
    [InlineData("nistP521", ContentEncryption.Aes256Gcm, "ecdh-sha512kdf-aes256wrap")]
    public void OurOwnKeyAgreement_IsOpenedByTheEcKey_OnEachCurve(string curve, ContentEncryption cipher, string scheme)
    {
        using var user = pki.Pki.Issue("eve@example.test", new CertificateOptions { EcCurve = ECCurve.CreateFromFriendlyName(curve) });
        var message = Encrypted(user.PublicCertificate, CryptoSettings.Default with { ContentEncryption = cipher });

        var result = EnvelopeOpener.Open(message, ["eve@example.test"], _ => [user.Certificate], "gw", requireSignature: false);

        Assert.True(result.Outcome == DecryptionOutcome.Decrypted, result.Reason);
        Assert.EndsWith($"keyAgreement:{scheme}", result.Algorithms); // as the outbound audit names it
        Assert.EndsWith("\r\n\r\nFor Eve's EC key.\r\n", Encoding.ASCII.GetString(result.Message));
    }

    /// <summary>The sender's ephemeral point moved off the curve: an invalid-curve attempt on the user's key is refused, never computed with.</summary>
    [Fact]
    public void AnOriginatorPointOffTheCurve_OpensNothing()
    {
        var message = Encrypted(_eve.PublicCertificate, CryptoSettings.Default, der =>
        {
            var at = der.AsSpan().IndexOf(new byte[] { 0x03, 0x42, 0x00, 0x04 }); // the BIT STRING of a P-256 point
            der[at + 10] ^= 0x01;
        });

        var result = EnvelopeOpener.Open(message, ["eve@example.test"], Keys(), "gw", requireSignature: false);

        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
        Assert.Contains("did not open it", result.Reason);
        Assert.Same(message, result.Message);
    }

    private static byte[] Encrypted(X509Certificate2 recipient, CryptoSettings crypto, Action<byte[]>? tamper = null)
    {
        using var envelope = new MemoryStream();
        var plaintext = new MemoryStream(Encoding.ASCII.GetBytes(Entity));
        if (crypto.IsAuthenticated) AuthEnvelopedDataWriter.Write(plaintext, [recipient], crypto, envelope);
        else EnvelopedDataWriter.Write(plaintext, [recipient], crypto, envelope);
        var der = envelope.ToArray();
        tamper?.Invoke(der);
        var type = crypto.IsAuthenticated ? "authEnveloped-data" : "enveloped-data";
        return Encoding.ASCII.GetBytes(Outer + $"MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type={type}\r\n" +
            "Content-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\r\n");
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
