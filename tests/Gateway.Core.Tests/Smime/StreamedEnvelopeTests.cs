using System.Security.Cryptography.Pkcs;
using System.Text;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing.Peers;
using MimeKit;
using MimeKit.Cryptography;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// The envelope is written as a stream, with its intermediate copies in files for a large message:
/// what comes out must still be the DER every reader decodes, checked with openssl, not our code.
/// </summary>
public sealed class StreamedEnvelopeTests(PkiFixture fixture) : IClassFixture<PkiFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-envelope-").FullName;

    [Theory]
    [InlineData(KeyTransport.RsaPkcs1, ContentEncryption.Aes256Cbc)]
    [InlineData(KeyTransport.RsaOaepSha256, ContentEncryption.Aes128Cbc)]
    public async Task LargeMessage_WithItsCopiesInFiles_DecryptsWithOpenSsl_ToTheSignedOriginal(KeyTransport transport, ContentEncryption cipher)
    {
        // Three megabytes of body lines: long DER lengths, many AES blocks, files instead of memory.
        var body = new StringBuilder();
        for (var i = 0; body.Length < 3 * 1024 * 1024; i++) body.Append("line ").Append(i).Append(" of a large message\n");
        var input = Serialise(Build(body.ToString()));
        var scratchFiles = 0;

        using var original = new MemoryStream(input, writable: false);
        using var output = new MemoryStream();
        var request = new SmimeRequest(fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [fixture.Bob.PublicCertificate],
            CryptoSettings.Default with { KeyTransport = transport, ContentEncryption = cipher })
        {
            Scratch = _ =>
            {
                scratchFiles++;
                return new FileStream(Path.Combine(_folder, Guid.NewGuid().ToString("N")), FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 4096, FileOptions.DeleteOnClose);
            },
        };
        SmimeTransformer.Transform(original, request, output, Now, CancellationToken.None);

        Assert.True(scratchFiles >= 3, $"the canonical copy, the plaintext and the envelope go through scratch files ({scratchFiles})");
        Assert.Empty(Directory.GetFiles(_folder)); // deleted on close when the transformation is done
        var eml = Path.Combine(_folder, "out.eml");
        await File.WriteAllBytesAsync(eml, output.ToArray());
        var bobCert = Path.Combine(_folder, "bob.crt");
        var bobKey = Path.Combine(_folder, "bob.key");
        await File.WriteAllTextAsync(bobCert, fixture.Bob.CertificatePem);
        await File.WriteAllTextAsync(bobKey, fixture.Bob.PrivateKeyPem);

        var decrypted = await OpenSslCms.DecryptAsync(eml, bobCert, bobKey);
        Assert.True(decrypted.Success, decrypted.Stderr);
        var signed = Assert.IsType<MultipartSigned>(MimeEntity.Load(new MemoryStream(decrypted.Content)));
        var text = Assert.IsType<TextPart>(((Multipart)signed[0])[0]);
        Assert.Equal(body.ToString(), text.Text.Replace("\r\n", "\n"));

        var printed = await OpenSslCms.CmsPrintAsync(eml);
        Assert.True(printed.Success, printed.Stderr);
        Assert.Contains(cipher == ContentEncryption.Aes128Cbc ? "aes-128-cbc" : "aes-256-cbc", printed.Stdout);
        Assert.Contains(transport == KeyTransport.RsaOaepSha256 ? "rsaesOaep" : "rsaEncryption", printed.Stdout);
    }

    [Fact]
    public void Envelope_DecodesWithDotNetsCms_AsVersion0_WithOneRecipientPerCertificate()
    {
        var (output, _) = Transform(Serialise(Build()), null, [], [fixture.Bob.PublicCertificate, fixture.Carol.PublicCertificate]);
        var part = Assert.IsType<ApplicationPkcs7Mime>(Load(output).Body);
        var cms = new EnvelopedCms();
        cms.Decode(Decode(part));

        Assert.Equal(0, cms.Version);
        Assert.Equal(2, cms.RecipientInfos.Count);
        Assert.All(cms.RecipientInfos.Cast<RecipientInfo>(), r => Assert.Equal(System.Security.Cryptography.Pkcs.SubjectIdentifierType.IssuerAndSerialNumber, r.RecipientIdentifier.Type));
        Assert.Equal("2.16.840.1.101.3.4.1.42", cms.ContentEncryptionAlgorithm.Oid.Value);
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
