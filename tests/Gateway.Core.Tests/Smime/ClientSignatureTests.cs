using System.Security.Cryptography.Pkcs;
using System.Text;
using MimeKit;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// Mail the client signed with S/MIME is not signed again; mail that only says it is signed is
/// signed around. The label alone let a multipart/signed of any protocol (a PGP signature, a junk
/// pkcs7-signature part) or a part labelled signed-data leave without the signature policy
/// promises the recipient.
/// </summary>
public sealed class ClientSignatureTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string Headers = "From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: labelled\r\nMIME-Version: 1.0\r\n";
    // RFC 2046 §5.1.1: the CRLF before the next boundary line belongs to the boundary, not to the signed part.
    private const string FirstPart = "Content-Type: text/plain\r\n\r\nthe figures";

    private static string Base64(byte[] bytes) => Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks);

    private static string Detached(string protocol, string signatureType, string signature) =>
        Headers + $"Content-Type: multipart/signed; protocol=\"{protocol}\"; micalg=sha-256; boundary=\"b\"\r\n\r\n" +
        "--b\r\n" + FirstPart + "\r\n--b\r\n" +
        $"Content-Type: {signatureType}; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n{signature}\r\n--b--\r\n";

    private static string Opaque(byte[] der) =>
        Headers + $"Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n{Base64(der)}\r\n";

    private byte[] SignedData(byte[] content, bool detached)
    {
        var cms = new SignedCms(new ContentInfo(content), detached);
        cms.ComputeSignature(new CmsSigner(fixture.Alice.Certificate));
        return cms.Encode();
    }

    private (byte[] Output, Gateway.Smime.SmimeResult Result) Run(string message) =>
        Transform(Encoding.ASCII.GetBytes(message), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

    public static TheoryData<string> OnlyLabelled() => new()
    {
        "PGP/MIME signed with no signature",
        "multipart/signed of an unknown protocol",
        "pkcs7-signature part that is no CMS",
        "S/MIME signature over other content",
        "signed-data label on bytes that are no CMS",
    };

    [Theory]
    [MemberData(nameof(OnlyLabelled))]
    public void BodyThatOnlySaysItIsSigned_IsSignedAroundWithTheGatewaySignature(string name)
    {
        var junk = Base64(Encoding.ASCII.GetBytes("not a signature"));
        var message = name switch
        {
            "PGP/MIME signed with no signature" => Detached("application/pgp-signature", "application/pgp-signature", "not a signature"),
            "multipart/signed of an unknown protocol" => Detached("application/x-anything", "application/pkcs7-signature", junk),
            "pkcs7-signature part that is no CMS" => Detached("application/pkcs7-signature", "application/pkcs7-signature", junk),
            "S/MIME signature over other content" => Detached("application/pkcs7-signature", "application/pkcs7-signature",
                Base64(SignedData("Content-Type: text/plain\r\n\r\nother figures\r\n"u8.ToArray(), detached: true))),
            "signed-data label on bytes that are no CMS" => Opaque(Encoding.ASCII.GetBytes("the figures, base64 encoded")),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        var (output, result) = Run(message);

        Assert.True(result.Signed, name);
        Assert.Equal(fixture.Alice.Certificate.Thumbprint, result.SignerThumbprint);
        Assert.Contains("signed around", result.Note);
        var (_, signature, _) = SplitSigned(output);
        signature.CheckSignature(verifySignatureOnly: true);
        Assert.Equal(fixture.Alice.Certificate.Thumbprint, signature.SignerInfos[0].Certificate!.Thumbprint);
    }

    public static TheoryData<string> ReallySigned() => new()
    {
        "detached",
        "detached, x-pkcs7-signature",
        "opaque signed-data",
    };

    [Theory]
    [MemberData(nameof(ReallySigned))]
    public void BodyTheClientSignedWithSmime_IsNotSignedAgain(string name)
    {
        var detached = Base64(SignedData(Encoding.ASCII.GetBytes(FirstPart), detached: true));
        var message = name switch
        {
            "detached" => Detached("application/pkcs7-signature", "application/pkcs7-signature", detached),
            "detached, x-pkcs7-signature" => Detached("application/x-pkcs7-signature", "application/x-pkcs7-signature", detached),
            "opaque signed-data" => Opaque(SignedData(Encoding.ASCII.GetBytes(FirstPart), detached: false)),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        var (output, result) = Run(message);

        Assert.False(result.Signed, name);
        Assert.Null(result.SignerThumbprint);
        Assert.Equal("already signed by the client; not signed again", result.Note);
        var body = Load(output).Body;
        if (body is MimeKit.Cryptography.MultipartSigned signed)
        {
            Assert.Equal("text/plain", signed[0].ContentType.MimeType); // the client's one signature, not wrapped in ours
            SplitSigned(output).Signature.CheckSignature(verifySignatureOnly: true);
        }
        else
        {
            Assert.IsType<MimeKit.Cryptography.ApplicationPkcs7Mime>(body);
        }
    }
}
