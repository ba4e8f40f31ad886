using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
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
