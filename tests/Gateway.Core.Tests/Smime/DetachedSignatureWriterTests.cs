using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing.Pki;

namespace Gateway.Tests.Smime;

/// <summary>The SignedData we write ourselves must be, byte for byte, what SignedCms writes for the same signer, content and time.</summary>
public sealed class DetachedSignatureWriterTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    // Fractions of a second and an offset: the signing time is written as UTCTime, in seconds, in UTC.
    private static readonly DateTimeOffset Now = new DateTimeOffset(2025, 3, 14, 10, 26, 53, TimeSpan.FromHours(1)).AddTicks(1_234_567);

    [Theory]
    [InlineData(SignatureDigest.Sha256, 2)]
    [InlineData(SignatureDigest.Sha384, 1)]
    [InlineData(SignatureDigest.Sha512, 100_000)]
    [InlineData(SignatureDigest.Sha256, 70_000)]
    public void RsaPkcs1_IsWhatSignedCmsWrites(SignatureDigest digest, int length)
    {
        var request = new SmimeRequest(fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [], CryptoSettings.Default with { Digest = digest });

        AssertSameAsSignedCms(request, length);
    }

    [Fact]
    public void WithAnIntermediate_IsWhatSignedCmsWrites_AndCarriesItsCertificate()
    {
        var intermediate = fixture.Pki.CreateIntermediate("Signature Writer Intermediate");
        using var dave = fixture.Pki.Issue("dave@example.test", new CertificateOptions { Issuer = intermediate });
        var request = new SmimeRequest(dave.Certificate, [dave.PublicCertificate, intermediate.Certificate], [], CryptoSettings.Default);

        var encoded = AssertSameAsSignedCms(request, 5000);

        var cms = new SignedCms();
        cms.Decode(encoded);
        Assert.Contains(cms.Certificates, c => c.Thumbprint == intermediate.Certificate.Thumbprint);
        Assert.DoesNotContain(cms.Certificates, c => c.Thumbprint == fixture.Pki.Root.Certificate.Thumbprint);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void SmimeCapabilities_NameAesGcmFirstAndRsaOaep_OnlyWhenTheGatewayDecryptsReplies_InBothWriters(bool advertised)
    {
        var request = new SmimeRequest(fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [], CryptoSettings.Default) { DecryptsReplies = advertised };

        var encoded = AssertSameAsSignedCms(request, 1000);

        var cms = new SignedCms();
        cms.Decode(encoded);
        var der = cms.SignerInfos[0].SignedAttributes.Cast<CryptographicAttributeObject>().Single(a => a.Oid.Value == "1.2.840.113549.1.9.15").Values[0].RawData;
        var capabilities = Gateway.Smime.SmimeCapabilities.Parse(der)!.Algorithms;
        if (advertised) Assert.Equal(["2.16.840.1.101.3.4.1.46", "2.16.840.1.101.3.4.1.6", "2.16.840.1.101.3.4.1.42"], capabilities.Take(3));
        else Assert.DoesNotContain(capabilities, oid => oid is "2.16.840.1.101.3.4.1.46" or "2.16.840.1.101.3.4.1.6");
        // A user's own client may not read OAEP (gpgsm 2.2: Kleopatra, KMail); the gateway's inbound endpoint does.
        if (advertised) Assert.Equal(["1.2.840.113549.1.1.7", "1.2.840.113549.1.1.1"], capabilities.TakeLast(2));
        else Assert.Equal("1.2.840.113549.1.1.1", Assert.Single(capabilities, oid => oid.StartsWith("1.2.840.113549.1.1.", StringComparison.Ordinal)));
    }

    [Fact]
    public void DualUseKey_IsItselfNamedForReplies_InBothPreferenceAttributes()
    {
        var request = new SmimeRequest(fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [], CryptoSettings.Default);

        var signerInfo = Decode(AssertSameAsSignedCms(request, 1000)).SignerInfos[0];

        Assert.Equal(IssuerAndSerial(fixture.Alice.Certificate, new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)), Attribute(signerInfo, "1.2.840.113549.1.9.16.2.11"));
        Assert.Equal(IssuerAndSerial(fixture.Alice.Certificate), Attribute(signerInfo, "1.3.6.1.4.1.311.16.4"));
    }

    /// <summary>
    /// A dual-key identity (one certificate to sign, one to encrypt, as company PKIs issue them):
    /// naming the signing certificate would have partners' clients encrypt replies to a key that
    /// cannot decrypt. The encryption certificate is named and carried, in both writers.
    /// </summary>
    [Fact]
    public void SigningOnlyKey_NamesAndCarriesTheSendersEncryptionCertificate()
    {
        using var signing = fixture.Pki.Issue("dana@example.test", new CertificateOptions { KeyUsage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation });
        using var encryption = fixture.Pki.Issue("dana@example.test", new CertificateOptions { KeyUsage = X509KeyUsageFlags.KeyEncipherment });
        var request = new SmimeRequest(signing.Certificate, [signing.PublicCertificate], [], CryptoSettings.Default) { ReplyCertificateChain = [encryption.PublicCertificate] };

        var cms = Decode(AssertSameAsSignedCms(request, 2000));

        Assert.Equal(new[] { signing.Certificate.Thumbprint, encryption.Certificate.Thumbprint }.Order(), cms.Certificates.Select(c => c.Thumbprint).Order());
        var (named, preferred) = Gateway.Certificates.EncryptionKeyPreference.Find(cms.SignerInfos[0], cms.Certificates);
        Assert.True(named);
        Assert.Equal(encryption.Certificate.Thumbprint, preferred?.Thumbprint);
        Assert.Equal(IssuerAndSerial(encryption.Certificate), Attribute(cms.SignerInfos[0], "1.3.6.1.4.1.311.16.4"));
    }

    [Fact]
    public void SigningOnlyKey_WithoutAnEncryptionCertificate_NamesNoneForReplies()
    {
        using var signing = fixture.Pki.Issue("dana@example.test", new CertificateOptions { KeyUsage = X509KeyUsageFlags.DigitalSignature });
        var unknown = new SmimeRequest(signing.Certificate, [signing.PublicCertificate], [], CryptoSettings.Default);
        var none = new SmimeRequest(fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [], CryptoSettings.Default) { ReplyCertificateChain = [] };

        foreach (var request in new[] { unknown, none })
        {
            var signerInfo = Decode(AssertSameAsSignedCms(request, 1000)).SignerInfos[0];
            Assert.DoesNotContain(signerInfo.SignedAttributes.Cast<CryptographicAttributeObject>(), a => a.Oid.Value is "1.2.840.113549.1.9.16.2.11" or "1.3.6.1.4.1.311.16.4");
        }
    }

    private static SignedCms Decode(byte[] encoded)
    {
        var cms = new SignedCms();
        cms.Decode(encoded);
        return cms;
    }

    private static byte[] Attribute(SignerInfo signer, string oid) =>
        signer.SignedAttributes.Cast<CryptographicAttributeObject>().Single(a => a.Oid.Value == oid).Values[0].RawData;

    /// <summary>IssuerAndSerialNumber ::= SEQUENCE { issuer Name, serialNumber INTEGER }, DER, under <paramref name="tag"/> (SEQUENCE by default).</summary>
    private static byte[] IssuerAndSerial(X509Certificate2 certificate, Asn1Tag? tag = null)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence(tag))
        {
            writer.WriteEncodedValue(certificate.IssuerName.RawData);
            writer.WriteInteger(certificate.SerialNumberBytes.Span);
        }
        return writer.Encode();
    }

    [Fact]
    public void PssSigner_IsLeftToSignedCms()
    {
        var request = new SmimeRequest(fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [],
            CryptoSettings.Default with { SignaturePadding = SignaturePadding.Pss });

        Assert.False(DetachedSignatureWriter.Supports(request));
    }

    private static byte[] AssertSameAsSignedCms(SmimeRequest request, int length)
    {
        var content = new byte[length];
        new Random(length).NextBytes(content);
        Assert.True(DetachedSignatureWriter.Supports(request));

        var ours = DetachedSignatureWriter.Sign(new MemoryStream(content), request, Now);
        var theirs = CmsSigning.SignWithSignedCms(new MemoryStream(content), request, Now);

        Assert.Equal(Convert.ToHexString(theirs), Convert.ToHexString(ours));
        var check = new SignedCms(new ContentInfo(content), detached: true);
        check.Decode(ours);
        check.CheckSignature(verifySignatureOnly: true);
        return ours;
    }
}
