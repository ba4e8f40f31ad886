using System.Security.Cryptography.Pkcs;
using System.Text;
using Gateway.Policy;
using MimeKit;
using MimeKit.Cryptography;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>Opaque signed-data and RSA-PSS when policy asks for them; inline PGP is left alone.</summary>
public sealed class SmimeSignatureFormTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string RsaPssOid = "1.2.840.113549.1.1.10";

    [Fact]
    public void OpaqueSignature_IsSignedData_ThatVerifiesAndCarriesTheText()
    {
        var (output, result) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [],
            new CryptoSettings(SignatureForm: SignatureForm.Opaque));

        var body = Assert.IsType<ApplicationPkcs7Mime>(Load(output).Body);
        Assert.Equal(SecureMimeType.SignedData, body.SecureMimeType);
        var cms = new SignedCms();
        cms.Decode(Decode(body));
        cms.CheckSignature(verifySignatureOnly: true);
        Assert.False(cms.Detached);
        Assert.Contains("see the attachment.", Encoding.ASCII.GetString(cms.ContentInfo.Content));
        Assert.Contains("signature:opaque", result.Algorithms);
    }

    [Fact]
    public void RsaPss_IsUsed_OnlyWhenAsked()
    {
        var (pss, pssResult) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [],
            new CryptoSettings(SignatureForm: SignatureForm.Opaque, SignaturePadding: SignaturePadding.Pss));
        var (classic, _) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [],
            new CryptoSettings(SignatureForm: SignatureForm.Opaque));

        Assert.Equal(RsaPssOid, SignerOf(pss).SignatureAlgorithm.Value);
        Assert.NotEqual(RsaPssOid, SignerOf(classic).SignatureAlgorithm.Value);
        Assert.Contains("WithRSA-PSS", pssResult.Algorithms);
    }

    [Fact]
    public void InlinePgp_IsPassedThroughUnchanged()
    {
        var input = Encoding.ASCII.GetBytes("From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: pgp\r\nContent-Type: text/plain\r\n\r\n" +
            "\r\n-----BEGIN PGP MESSAGE-----\r\n\r\nhQEMA5sZ\r\n-----END PGP MESSAGE-----\r\n");

        var (output, result) = Transform(input, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [fixture.Bob.PublicCertificate]);

        Assert.Equal(input, output);
        Assert.False(result.Encrypted);
        Assert.Contains("already encrypted", result.Note);
    }

    private static SignerInfo SignerOf(byte[] output)
    {
        var cms = new SignedCms();
        cms.Decode(Decode(Assert.IsType<ApplicationPkcs7Mime>(Load(output).Body)));
        cms.CheckSignature(verifySignatureOnly: true);
        return cms.SignerInfos[0];
    }
}
