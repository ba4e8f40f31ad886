using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing;
using Gateway.Testing.Peers;
using MimeKit;
using MimeKit.Cryptography;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// AES-GCM in AuthEnvelopedData (RFC 5083, 5084): checked with openssl, not our code. It opens
/// what we write for every recipient, and refuses it once a single byte of the ciphertext is
/// changed, which is the point of it: AES-CBC would decrypt that to altered plaintext.
/// </summary>
public sealed class AuthenticatedEnvelopeTests(PkiFixture fixture) : IClassFixture<PkiFixture>, IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-gcm-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Theory]
    [InlineData(ContentEncryption.Aes256Gcm, 10 * 1024, "aes-256-gcm")]
    [InlineData(ContentEncryption.Aes128Gcm, 10 * 1024, "aes-128-gcm")]
    [InlineData(ContentEncryption.Aes256Gcm, 3 * 1024 * 1024, "aes-256-gcm")]
    public async Task SignedAndEncryptedWithGcm_OpensWithOpenSsl_ForEachRecipient(ContentEncryption cipher, int size, string name)
    {
        var body = new StringBuilder();
        for (var i = 0; body.Length < size; i++) body.Append("line ").Append(i).Append(" of the message\n");
        var (output, result) = Transform(Serialise(Build(body.ToString())), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate],
            [fixture.Bob.PublicCertificate, fixture.Carol.PublicCertificate], CryptoSettings.Default with { ContentEncryption = cipher });
        var eml = Path.Combine(_folder, "out.eml");
        await File.WriteAllBytesAsync(eml, output);

        var part = Assert.IsType<ApplicationPkcs7Mime>(Load(output).Body);
        Assert.Equal(SecureMimeType.AuthEnvelopedData, part.SecureMimeType);
        Assert.Equal("authEnveloped-data", part.ContentType.Parameters["smime-type"]);
        Assert.Contains($"encrypt:{name}", result.Algorithms);
        var printed = await OpenSslCms.CmsPrintAsync(eml);
        Assert.True(printed.Success, printed.Stderr);
        Assert.Contains("id-smime-ct-authEnvelopedData", printed.Stdout);
        Assert.Contains(name, printed.Stdout);
        foreach (var (identity, label) in new[] { (fixture.Bob, "bob"), (fixture.Carol, "carol") })
        {
            var files = identity.WriteTo(_folder);
            var decrypted = await OpenSslCms.DecryptAsync(eml, files.CertificatePath, files.KeyPath);
            Assert.True(decrypted.Success, $"{label}: {decrypted.Stderr}");
            var signed = Assert.IsType<MultipartSigned>(MimeEntity.Load(new MemoryStream(decrypted.Content)));
            Assert.Equal(body.ToString(), Assert.IsType<TextPart>(((Multipart)signed[0])[0]).Text.Replace("\r\n", "\n"));
        }
    }

    [Fact]
    public async Task OneChangedByteOfCiphertext_FailsOpenSslsTagCheck()
    {
        var (output, _) = Transform(Serialise(Build()), null, [], [fixture.Bob.PublicCertificate], CryptoSettings.Default with { ContentEncryption = ContentEncryption.Aes256Gcm });
        var der = Decode(Assert.IsType<ApplicationPkcs7Mime>(Load(output).Body));
        var files = fixture.Bob.WriteTo(_folder);
        var intact = Path.Combine(_folder, "intact.der");
        await File.WriteAllBytesAsync(intact, der);
        var opened = await ToolProcess.RunAsync("openssl", ["cms", "-decrypt", "-inform", "DER", "-in", intact, "-recip", files.CertificatePath, "-inkey", files.KeyPath]);
        Assert.True(opened.ExitCode == 0, opened.Stderr);

        der[^40] ^= 0x01; // inside the ciphertext: the last 18 bytes are the mac's header and the tag
        var changed = Path.Combine(_folder, "changed.der");
        await File.WriteAllBytesAsync(changed, der);
        var refused = await ToolProcess.RunAsync("openssl", ["cms", "-decrypt", "-inform", "DER", "-in", changed, "-recip", files.CertificatePath, "-inkey", files.KeyPath]);

        // OpenSSL 3.0.19 (Debian 3.0.19-1~deb12u2) writes the content out as it decrypts it and checks
        // the tag at the end, so its stdout may hold the changed plaintext: a reader goes by the exit
        // status. (Our inbound endpoint opens AES-GCM with .NET's AesGcm, which checks the tag first.)
        Assert.NotEqual(0, refused.ExitCode);
        Assert.Contains("Error decrypting CMS structure", refused.Stderr);
    }

    /// <summary>
    /// The writer's own output, read as strict DER (every length announced before encrypting must be
    /// exact), its key unwrapped with Bob's RSA key and its content opened with .NET's AES-GCM (OpenSSL
    /// underneath), not BouncyCastle, which wrote it: at lengths around the DER length forms' edges.
    /// </summary>
    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(100)]
    [InlineData(65535)]
    [InlineData(65536)]
    public void TheWritersDer_IsStrict_AndOpensWithDotNetsAesGcm_WithAFreshNoncePerMessage(int length)
    {
        var plaintext = new byte[length];
        new Random(length).NextBytes(plaintext);
        var first = Write(plaintext);
        var second = Write(plaintext);

        var (nonce, opened) = Open(first);
        Assert.Equal(plaintext, opened);
        Assert.Equal(12, nonce.Length);
        Assert.NotEqual(nonce, Open(second).Nonce);
    }

    private byte[] Write(byte[] plaintext)
    {
        using var output = new MemoryStream();
        AuthEnvelopedDataWriter.Write(new MemoryStream(plaintext), [fixture.Bob.PublicCertificate],
            CryptoSettings.Default with { ContentEncryption = ContentEncryption.Aes256Gcm }, output);
        return output.ToArray();
    }

    private (byte[] Nonce, byte[] Plaintext) Open(byte[] der)
    {
        var outer = new System.Formats.Asn1.AsnReader(der, System.Formats.Asn1.AsnEncodingRules.DER);
        var contentInfo = outer.ReadSequence();
        outer.ThrowIfNotEmpty();
        Assert.Equal("1.2.840.113549.1.9.16.1.23", contentInfo.ReadObjectIdentifier());
        var explicitContent = contentInfo.ReadSequence(new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 0));
        var authEnveloped = explicitContent.ReadSequence();
        Assert.True(authEnveloped.TryReadInt32(out var version) && version == 0);
        var recipientInfo = authEnveloped.ReadSetOf().ReadSequence();
        Assert.True(recipientInfo.TryReadInt32(out var riVersion) && riVersion == 0);
        recipientInfo.ReadSequence(); // issuerAndSerialNumber
        recipientInfo.ReadSequence(); // rsaEncryption
        using var rsa = fixture.Bob.Certificate.GetRSAPrivateKey()!;
        var key = rsa.Decrypt(recipientInfo.ReadOctetString(), System.Security.Cryptography.RSAEncryptionPadding.Pkcs1);
        var encryptedContentInfo = authEnveloped.ReadSequence();
        Assert.Equal("1.2.840.113549.1.7.1", encryptedContentInfo.ReadObjectIdentifier());
        var algorithm = encryptedContentInfo.ReadSequence();
        Assert.Equal("2.16.840.1.101.3.4.1.46", algorithm.ReadObjectIdentifier());
        var parameters = algorithm.ReadSequence();
        var nonce = parameters.ReadOctetString();
        Assert.True(parameters.TryReadInt32(out var tagLength) && tagLength == 16);
        var ciphertext = encryptedContentInfo.ReadOctetString(new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 0));
        var tag = authEnveloped.ReadOctetString();
        authEnveloped.ThrowIfNotEmpty();
        var plaintext = new byte[ciphertext.Length];
        using var gcm = new System.Security.Cryptography.AesGcm(key, 16);
        gcm.Decrypt(nonce, ciphertext, tag, plaintext);
        return (nonce, plaintext);
    }
}
