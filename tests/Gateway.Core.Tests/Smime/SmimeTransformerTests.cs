using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Policy;
using MimeKit;
using MimeKit.Cryptography;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>Sign-then-encrypt, checked with .NET's CMS on the produced bytes, not with the transformer's own code.</summary>
public sealed class SmimeTransformerTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string RsaEncryptionOid = "1.2.840.113549.1.1.1";
    private const string RsaesOaepOid = "1.2.840.113549.1.1.7";
    private const string Aes128CbcOid = "2.16.840.1.101.3.4.1.2";
    private const string Aes256CbcOid = "2.16.840.1.101.3.4.1.42";
    private const string SmimeCapabilitiesOid = "1.2.840.113549.1.9.15";
    private const string SigningTimeOid = "1.2.840.113549.1.9.5";

    private (byte[] Output, Gateway.Smime.SmimeResult Result) SignAndEncrypt(CryptoSettings? crypto = null) =>
        Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate],
            [fixture.Bob.PublicCertificate, fixture.Carol.PublicCertificate], crypto);

    [Fact]
    public void SignedAndEncrypted_DecryptsForBob_ToMultipartSignedWithAValidDetachedSignature()
    {
        var (output, result) = SignAndEncrypt();

        var inner = Decrypt(output, fixture.Bob.Certificate);
        var (content, signature, entity) = SplitSigned(inner);
        signature.CheckSignature(verifySignatureOnly: true);

        Assert.Equal("application/pkcs7-signature", entity.ContentType.Parameters["protocol"]);
        Assert.Equal(fixture.Alice.Certificate.Thumbprint, signature.SignerInfos[0].Certificate!.Thumbprint);
        Assert.Contains("see the attachment.", Encoding.ASCII.GetString(content));
        Assert.True(result.Signed);
        Assert.True(result.Encrypted);
        Assert.Equal(fixture.Alice.Certificate.Thumbprint, result.SignerThumbprint);
        Assert.Equal([fixture.Bob.Certificate.Thumbprint, fixture.Carol.Certificate.Thumbprint], result.RecipientThumbprints);
    }

    [Fact]
    public void SignedAndEncrypted_CarolCanDecryptToo()
    {
        var (output, _) = SignAndEncrypt();

        var (_, signature, _) = SplitSigned(Decrypt(output, fixture.Carol.Certificate));

        signature.CheckSignature(verifySignatureOnly: true);
    }

    [Fact]
    public void SignatureCoversTheExactBytes_ATamperedPartFailsVerification()
    {
        var (output, _) = SignAndEncrypt();
        var (content, signature, _) = SplitSigned(Decrypt(output, fixture.Bob.Certificate));
        var tampered = (byte[])content.Clone();
        tampered[^3] ^= 0x01;

        var check = new SignedCms(new ContentInfo(tampered), detached: true);
        check.Decode(signature.Encode());

        Assert.ThrowsAny<CryptographicException>(() => check.CheckSignature(verifySignatureOnly: true));
    }

    [Fact]
    public void StrangerCannotDecrypt()
    {
        var (output, _) = SignAndEncrypt();
        var mallory = fixture.Pki.Issue("mallory@evil.test");

        Assert.ThrowsAny<CryptographicException>(() => Decrypt(output, mallory.Certificate));
    }

    [Fact]
    public void ContentEncryption_IsAes256CbcByDefault_AndRsaPkcs1KeyTransport()
    {
        var cms = Envelope(SignAndEncrypt().Output);

        Assert.Equal(Aes256CbcOid, cms.ContentEncryptionAlgorithm.Oid.Value);
        Assert.Equal(2, cms.RecipientInfos.Count);
        Assert.All(cms.RecipientInfos.Cast<RecipientInfo>(),
            r => Assert.Equal(RsaEncryptionOid, Assert.IsType<KeyTransRecipientInfo>(r).KeyEncryptionAlgorithm.Oid.Value));
    }

    [Fact]
    public void ContentEncryption_IsAes128Cbc_WhenCryptoSettingsSaySo()
    {
        var cms = Envelope(SignAndEncrypt(new CryptoSettings(ContentEncryption: ContentEncryption.Aes128Cbc)).Output);

        Assert.Equal(Aes128CbcOid, cms.ContentEncryptionAlgorithm.Oid.Value);
    }

    [Fact]
    public void KeyTransport_IsRsaOaep_WhenSelected_AndStillDecrypts()
    {
        var (output, result) = SignAndEncrypt(new CryptoSettings(KeyTransport: KeyTransport.RsaOaepSha256));

        var cms = Envelope(output);
        Assert.All(cms.RecipientInfos.Cast<RecipientInfo>(),
            r => Assert.Equal(RsaesOaepOid, Assert.IsType<KeyTransRecipientInfo>(r).KeyEncryptionAlgorithm.Oid.Value));
        SplitSigned(Decrypt(output, fixture.Bob.Certificate)).Signature.CheckSignature(verifySignatureOnly: true);
        Assert.Contains("oaep", result.Algorithms);
    }

    [Fact]
    public void RecipientInfos_NameBobAndCarolByIssuerAndSerial()
    {
        var cms = Envelope(SignAndEncrypt().Output);

        var serials = cms.RecipientInfos.Cast<RecipientInfo>()
            .Select(r => Assert.IsType<System.Security.Cryptography.Xml.X509IssuerSerial>(r.RecipientIdentifier.Value).SerialNumber)
            .Order().ToArray();

        Assert.Equal(new[] { fixture.Bob.Certificate.SerialNumber, fixture.Carol.Certificate.SerialNumber }.Order(), serials);
    }

    [Theory]
    [InlineData(SignatureDigest.Sha256, "2.16.840.1.101.3.4.2.1", "sha-256")]
    [InlineData(SignatureDigest.Sha384, "2.16.840.1.101.3.4.2.2", "sha-384")]
    [InlineData(SignatureDigest.Sha512, "2.16.840.1.101.3.4.2.3", "sha-512")]
    public void Digest_FollowsCryptoSettings_AndMicalgMatches(SignatureDigest digest, string oid, string micalg)
    {
        var (output, _) = SignAndEncrypt(new CryptoSettings(Digest: digest));

        var (_, signature, entity) = SplitSigned(Decrypt(output, fixture.Bob.Certificate));

        signature.CheckSignature(verifySignatureOnly: true);
        Assert.Equal(oid, signature.SignerInfos[0].DigestAlgorithm.Value);
        Assert.Equal(micalg, entity.ContentType.Parameters["micalg"]);
    }

    [Fact]
    public void SignedAttributes_IncludeSmimeCapabilitiesAndSigningTime()
    {
        var (_, signature, _) = SplitSigned(Decrypt(SignAndEncrypt().Output, fixture.Bob.Certificate));

        var attributes = signature.SignerInfos[0].SignedAttributes.Cast<CryptographicAttributeObject>().ToList();
        var capabilities = Assert.Single(attributes, a => a.Oid.Value == SmimeCapabilitiesOid).Values[0].RawData;
        var signingTime = Assert.Single(attributes, a => a.Oid.Value == SigningTimeOid).Values[0];

        Assert.Equal(Now.UtcDateTime, new Pkcs9SigningTime(signingTime.RawData).SigningTime.ToUniversalTime());
        foreach (var cipher in new[] { Aes256CbcOid, Aes128CbcOid })
            Assert.Contains(Convert.ToHexString(EncodeOid(cipher)), Convert.ToHexString(capabilities));
    }

    [Fact]
    public void EmbeddedCertificates_ExcludeTheRoot()
    {
        var (_, signature, _) = SplitSigned(Decrypt(SignAndEncrypt().Output, fixture.Bob.Certificate));

        var thumbprints = signature.Certificates.Select(c => c.Thumbprint).ToList();
        Assert.Contains(fixture.Alice.Certificate.Thumbprint, thumbprints);
        Assert.DoesNotContain(fixture.Pki.Root.Certificate.Thumbprint, thumbprints);
    }

    [Fact]
    public void SignerUnderIntermediate_EmbedsLeafAndIntermediate_ButNotTheRoot()
    {
        var intermediate = fixture.Pki.CreateIntermediate("Transformer Intermediate");
        var signer = fixture.Pki.Issue("ivy@example.test", new Gateway.Testing.Pki.CertificateOptions { Issuer = intermediate });

        var (output, _) = Transform(Serialise(Build()), signer.Certificate, [signer.PublicCertificate, intermediate.Certificate], [fixture.Bob.PublicCertificate]);
        var (_, signature, _) = SplitSigned(Decrypt(output, fixture.Bob.Certificate));

        Assert.Equal(new[] { signer.Certificate.Thumbprint, intermediate.Certificate.Thumbprint }.Order(),
            signature.Certificates.Select(c => c.Thumbprint).Order());
    }

    [Fact]
    public void Output_HasCrlfLineEndingsOnly_AndAMimeVersionHeader()
    {
        var (output, _) = SignAndEncrypt();

        AssertCrlfOnly(output);
        AssertCrlfOnly(Decrypt(output, fixture.Bob.Certificate));
        Assert.Equal("1.0", Load(output).Headers[HeaderId.MimeVersion]);
    }

    [Fact]
    public void TopLevelHeaders_StayOutsideTheEnvelope()
    {
        var original = Build();
        var (output, _) = SignAndEncrypt();

        var outer = Load(output);
        var inner = HeaderBlock(Decrypt(output, fixture.Bob.Certificate));

        Assert.Equal(original.From.ToString(), outer.From.ToString());
        Assert.Equal(original.To.ToString(), outer.To.ToString());
        Assert.Equal(original.Cc.ToString(), outer.Cc.ToString());
        Assert.Equal("Quarterly figures", outer.Subject);
        Assert.Equal("test-1@example.test", outer.MessageId);
        Assert.Equal("application/pkcs7-mime", outer.Body?.ContentType.MimeType);
        foreach (var header in new[] { "From:", "To:", "Subject:", "Message-Id:" })
            Assert.DoesNotContain(header, inner, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void EightBitAttachment_IsSevenBitInsideTheSignedEntity_AndDecodesToTheSameText()
    {
        var (content, _, _) = SplitSigned(Decrypt(SignAndEncrypt().Output, fixture.Bob.Certificate));

        Assert.All(content, b => Assert.True(b < 0x80, $"8-bit byte 0x{b:X2} in the signed part"));
        var mixed = Assert.IsType<Multipart>(MimeEntity.Load(new MemoryStream(content)))!;
        var attachment = Assert.IsAssignableFrom<MimePart>(mixed[1]);
        Assert.Contains(attachment.ContentTransferEncoding, new[] { ContentEncoding.Base64, ContentEncoding.QuotedPrintable });
        Assert.Equal(AttachmentText, Encoding.UTF8.GetString(Decode(attachment)));
    }

    private static byte[] EncodeOid(string oid)
    {
        var writer = new System.Formats.Asn1.AsnWriter(System.Formats.Asn1.AsnEncodingRules.DER);
        writer.WriteObjectIdentifier(oid);
        return writer.Encode();
    }
}
