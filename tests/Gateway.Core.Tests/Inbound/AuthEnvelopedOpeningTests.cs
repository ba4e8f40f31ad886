using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Inbound;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing;

namespace Gateway.Tests.Inbound;

/// <summary>
/// Inbound AES-GCM (authEnveloped-data, RFC 5083/5084), written by openssl, an independent
/// implementation, and by our own writer: opened with the recipient's key, with no signature
/// needed (the tag proves the content unchanged), and never opened once a byte is changed.
/// </summary>
public sealed class AuthEnvelopedOpeningTests(PkiFixture pki) : IClassFixture<PkiFixture>, IDisposable
{
    private const string Entity = "Content-Type: text/plain; charset=us-ascii\r\n\r\nThe figures, for Alice only.\r\n";
    private const string Outer = "Received: from mx.partner.test\r\nFrom: Bob <bob@partner.test>\r\nTo: Alice <alice@example.test>\r\nSubject: figures\r\n";
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-gcm-in-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    private Func<string, IReadOnlyList<System.Security.Cryptography.X509Certificates.X509Certificate2>> Keys() =>
        address => address switch
        {
            "alice@example.test" => [pki.Alice.Certificate],
            "carol@partner.test" => [pki.Carol.Certificate],
            _ => [],
        };

    /// <summary>openssl cms -encrypt with the cipher and options given; the outer headers above its MIME headers.</summary>
    private async Task<byte[]> EncryptedByOpenSslAsync(string cipher, params string[] options)
    {
        var entity = Path.Combine(_folder, "entity.txt");
        var certificate = Path.Combine(_folder, "alice.crt");
        var output = Path.Combine(_folder, "out.eml");
        await File.WriteAllTextAsync(entity, Entity);
        await File.WriteAllTextAsync(certificate, pki.Alice.CertificatePem);
        // -keyopt applies to the -recip before it; the other options go first.
        var keyOptions = options.SkipWhile(o => o != "-keyopt").ToArray();
        var result = await ToolProcess.RunAsync("openssl",
            ["cms", "-encrypt", "-binary", "-" + cipher, .. options.TakeWhile(o => o != "-keyopt"), "-in", entity, "-out", output, "-recip", certificate, .. keyOptions]);
        Assert.True(result.ExitCode == 0, result.Stderr);
        var smime = (await File.ReadAllTextAsync(output)).Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal);
        Assert.Contains("smime-type=authEnveloped-data", smime);
        return Encoding.ASCII.GetBytes(Outer + smime);
    }

    [Theory]
    [InlineData("aes-256-gcm", "rsaes-pkcs1-v1_5")]
    [InlineData("aes-128-gcm", "rsaes-pkcs1-v1_5", "-keyid")]
    [InlineData("aes-256-gcm", "rsaes-oaep-sha256", "-keyopt", "rsa_padding_mode:oaep", "-keyopt", "rsa_oaep_md:sha256")]
    public async Task OpenSslsGcm_ToOurUser_IsDecrypted_WithoutASignatureBeingNeeded(string cipher, string keyTransport, params string[] options)
    {
        var result = EnvelopeOpener.Open(await EncryptedByOpenSslAsync(cipher, options), ["alice@example.test"], Keys(), "gw.example.test", requireSignature: true);

        Assert.True(result.Outcome == DecryptionOutcome.Decrypted, result.Reason);
        Assert.Equal($"encrypt:{cipher} keyTransport:{keyTransport}", result.Algorithms);
        var text = Encoding.ASCII.GetString(result.Message);
        Assert.Contains($"X-Gateway-Decrypted: by gw.example.test; certificate={pki.Alice.Certificate.Thumbprint}; cipher={cipher}\r\n", text);
        Assert.EndsWith("\r\n\r\nThe figures, for Alice only.\r\n", text);
    }

    [Fact]
    public async Task OneChangedByte_IsNeverDecrypted_AndTheMessagePassesAsItCame()
    {
        var message = await EncryptedByOpenSslAsync("aes-256-gcm");
        var text = Encoding.ASCII.GetString(message);
        var bodyStart = text.IndexOf("\r\n\r\n", text.IndexOf("Content-Transfer-Encoding", StringComparison.Ordinal), StringComparison.Ordinal) + 4;
        var der = Convert.FromBase64String(text[bodyStart..]);
        der[^30] ^= 0x01; // in the ciphertext, before the mac
        var changed = Encoding.ASCII.GetBytes(text[..bodyStart] + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\r\n");

        var result = EnvelopeOpener.Open(changed, ["alice@example.test"], Keys(), "gw", requireSignature: false);

        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
        Assert.Contains("GCM tag does not match", result.Reason);
        Assert.Same(changed, result.Message);
    }

    [Fact]
    public void OurOwnGcm_ToTwoUsers_IsOpenedByEachOnesKey_ToTheSameContent()
    {
        using var envelope = new MemoryStream();
        AuthEnvelopedDataWriter.Write(new MemoryStream(Encoding.ASCII.GetBytes(Entity)), [pki.Alice.PublicCertificate, pki.Carol.PublicCertificate],
            CryptoSettings.Default with { ContentEncryption = ContentEncryption.Aes128Gcm, KeyTransport = KeyTransport.RsaOaepSha256 }, envelope);
        var message = Encoding.ASCII.GetBytes(Outer + "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=authEnveloped-data\r\n" +
            "Content-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String(envelope.ToArray(), Base64FormattingOptions.InsertLineBreaks) + "\r\n");

        var result = EnvelopeOpener.Open(message, ["alice@example.test", "carol@partner.test"], Keys(), "gw");

        Assert.True(result.Outcome == DecryptionOutcome.Decrypted, result.Reason);
        Assert.Equal("encrypt:aes-128-gcm keyTransport:rsaes-oaep-sha256", result.Algorithms); // as the outbound audit names it
        Assert.EndsWith("\r\n\r\nThe figures, for Alice only.\r\n", Encoding.ASCII.GetString(result.Message));
    }

    /// <summary>
    /// An AuthEnvelopedData made here with .NET's AES-GCM and RSA, not our writer: each recipient's
    /// RecipientInfo wraps the key given for it (a forged one wraps another), and authAttrs, when
    /// given, are authenticated as RFC 5083 §2.2 says (their DER as a SET OF).
    /// </summary>
    private static byte[] Handmade(IReadOnlyList<(System.Security.Cryptography.X509Certificates.X509Certificate2 Certificate, byte[] Key)> recipients, byte[] contentKey,
        byte[]? authAttributes = null, Action<byte[]>? tamper = null, byte[]? nonce = null, byte[]? issuerAndSerial = null)
    {
        nonce ??= System.Security.Cryptography.RandomNumberGenerator.GetBytes(12);
        var plaintext = Encoding.ASCII.GetBytes(Entity);
        var ciphertext = new byte[plaintext.Length];
        var tag = new byte[16];
        byte[]? aad = null;
        if (authAttributes is not null)
        {
            var set = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
            using (set.PushSetOf()) set.WriteEncodedValue(authAttributes);
            aad = set.Encode();
        }
        if (nonce.Length > 0)
        {
            using var gcm = new System.Security.Cryptography.AesGcm(contentKey, 16);
            gcm.Encrypt(nonce, plaintext, ciphertext, tag, aad);
        }
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            writer.WriteObjectIdentifier("1.2.840.113549.1.9.16.1.23");
            using (writer.PushSequence(new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 0)))
            using (writer.PushSequence())
            {
                writer.WriteInteger(0);
                using (writer.PushSetOf())
                {
                    foreach (var (certificate, key) in recipients)
                    {
                        using (writer.PushSequence())
                        {
                            writer.WriteInteger(0);
                            if (issuerAndSerial is not null) writer.WriteEncodedValue(issuerAndSerial);
                            else
                            {
                                using (writer.PushSequence())
                                {
                                    writer.WriteEncodedValue(certificate.IssuerName.RawData);
                                    writer.WriteInteger(certificate.SerialNumberBytes.Span);
                                }
                            }
                            using (writer.PushSequence())
                            {
                                writer.WriteObjectIdentifier("1.2.840.113549.1.1.1");
                                writer.WriteNull();
                            }
                            using var rsa = certificate.GetRSAPublicKey()!;
                            writer.WriteOctetString(rsa.Encrypt(key, System.Security.Cryptography.RSAEncryptionPadding.Pkcs1));
                        }
                    }
                }
                using (writer.PushSequence())
                {
                    writer.WriteObjectIdentifier("1.2.840.113549.1.7.1");
                    using (writer.PushSequence())
                    {
                        writer.WriteObjectIdentifier(contentKey.Length == 16 ? "2.16.840.1.101.3.4.1.6" : "2.16.840.1.101.3.4.1.46");
                        using (writer.PushSequence())
                        {
                            writer.WriteOctetString(nonce);
                            writer.WriteInteger(16);
                        }
                    }
                    writer.WriteOctetString(ciphertext, new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 0));
                }
                if (authAttributes is not null)
                {
                    using (writer.PushSetOf(new System.Formats.Asn1.Asn1Tag(System.Formats.Asn1.TagClass.ContextSpecific, 1, isConstructed: true)))
                        writer.WriteEncodedValue(authAttributes);
                }
                writer.WriteOctetString(tag);
            }
        }
        var der = writer.Encode();
        tamper?.Invoke(der);
        return Encoding.ASCII.GetBytes(Outer + "MIME-Version: 1.0\r\nContent-Type: application/pkcs7-mime; smime-type=authEnveloped-data\r\n" +
            "Content-Transfer-Encoding: base64\r\n\r\n" + Convert.ToBase64String(der, Base64FormattingOptions.InsertLineBreaks) + "\r\n");
    }

    /// <summary>A signingTime attribute, as a sender may authenticate along with the content.</summary>
    private static readonly byte[] SigningTimeAttribute = Convert.FromHexString("301C06092A864886F70D010905310F170D3236313132373130303030305A");

    [Fact]
    public void AuthenticatedAttributes_AreTheAdditionalData_AndAChangeToThemIsRefused()
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var intact = Handmade([(pki.Alice.PublicCertificate, key)], key, SigningTimeAttribute);
        var opened = EnvelopeOpener.Open(intact, ["alice@example.test"], Keys(), "gw");
        Assert.True(opened.Outcome == DecryptionOutcome.Decrypted, opened.Reason);

        // The last digit of the signing time, inside authAttrs: the content is untouched, the tag is not.
        var changed = Handmade([(pki.Alice.PublicCertificate, key)], key, SigningTimeAttribute,
            der => der[der.AsSpan().IndexOf(SigningTimeAttribute) + SigningTimeAttribute.Length - 2] ^= 0x01);
        var refused = EnvelopeOpener.Open(changed, ["alice@example.test"], Keys(), "gw");
        Assert.Equal(DecryptionOutcome.Unreadable, refused.Outcome);
        Assert.Contains("GCM tag does not match", refused.Reason);
    }

    [Fact]
    public void ARecipientInfoForgedToWrapAnotherKey_OpensNothing_ForAnyone()
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var other = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var message = Handmade([(pki.Alice.PublicCertificate, key), (pki.Carol.PublicCertificate, other)], key);

        var result = EnvelopeOpener.Open(message, ["alice@example.test", "carol@partner.test"], Keys(), "gw");

        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
        Assert.Contains("carol@partner.test", result.Reason);
        Assert.Same(message, result.Message);
    }

    [Theory]
    [InlineData("empty nonce")]
    [InlineData("issuerAndSerialNumber that is an INTEGER")]
    [InlineData("trailing bytes")]
    public void MalformedAuthEnvelopedData_IsUnreadable_NeverAnException(string flaw)
    {
        var key = System.Security.Cryptography.RandomNumberGenerator.GetBytes(32);
        var message = flaw switch
        {
            "empty nonce" => Handmade([(pki.Alice.PublicCertificate, key)], key, nonce: []),
            "issuerAndSerialNumber that is an INTEGER" => Handmade([(pki.Alice.PublicCertificate, key)], key, issuerAndSerial: [0x02, 0x01, 0x05]),
            _ => WithTrailingBytes(Handmade([(pki.Alice.PublicCertificate, key)], key)),
        };

        var result = EnvelopeOpener.Open(message, ["alice@example.test"], Keys(), "gw");

        // Unreadable, or (a RecipientInfo that cannot be read names no one) not for our keys: passed on as it came either way.
        Assert.NotEqual(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.Same(message, result.Message);
    }

    private static byte[] WithTrailingBytes(byte[] message)
    {
        var text = Encoding.ASCII.GetString(message);
        var bodyStart = text.IndexOf("\r\n\r\n", StringComparison.Ordinal) + 4;
        var der = Convert.FromBase64String(text[bodyStart..]);
        return Encoding.ASCII.GetBytes(text[..bodyStart] + Convert.ToBase64String([.. der, 0x05, 0x00]) + "\r\n");
    }
}
