using System.Security.Cryptography.Pkcs;
using System.Text;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// Mail the client encrypted is passed on as it is; mail that only says so is encrypted like any
/// other. The label alone let an opaque signature (readable by anyone), a PGP armour followed by
/// text in clear, or a multipart/encrypted of plain parts leave in clear to a recipient who must
/// get encrypted mail.
/// </summary>
public sealed class ClientEncryptionTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string Headers = "From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: labelled\r\nMIME-Version: 1.0\r\n";
    private const string Armour = "-----BEGIN PGP MESSAGE-----\r\nComment: test only\r\n\r\nhQEMA5sZ\r\n=AbCd\r\n-----END PGP MESSAGE-----\r\n";

    private static string Base64(byte[] bytes) => Convert.ToBase64String(bytes, Base64FormattingOptions.InsertLineBreaks);

    private static string Pkcs7(string smimeType, byte[] der) =>
        Headers + $"Content-Type: application/pkcs7-mime; smime-type={smimeType}; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n{Base64(der)}\r\n";

    private static string PgpMime(string payload, string control = "Version: 1\r\n", string preamble = "") =>
        Headers + "Content-Type: multipart/encrypted; protocol=\"application/pgp-encrypted\"; boundary=\"b\"\r\n\r\n" + preamble +
        "--b\r\nContent-Type: application/pgp-encrypted\r\n\r\n" + control + "\r\n--b\r\nContent-Type: application/octet-stream\r\n\r\n" + payload + "--b--\r\n";

    private (byte[] Input, byte[] Output, Gateway.Smime.SmimeResult Result) Run(string message)
    {
        var input = Encoding.ASCII.GetBytes(message);
        var (output, result) = Transform(input, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [fixture.Bob.PublicCertificate]);
        return (input, output, result);
    }

    public static TheoryData<string> OnlyLabelled() => new()
    {
        "opaque signature labelled enveloped-data",
        "bytes that are no CMS labelled enveloped-data",
        "PGP armour followed by text in clear",
        "multipart/encrypted around a plain part",
        "PGP armour whose first packet is no session key",
        "PGP/MIME whose control part says more than its version",
        "PGP/MIME with text before its first part",
        "PGP/MIME with text after the client's preamble",
    };

    [Theory]
    [MemberData(nameof(OnlyLabelled))]
    public void BodyThatOnlySaysItIsEncrypted_IsEncryptedForTheRecipient(string name)
    {
        var signed = new SignedCms(new ContentInfo("Content-Type: text/plain\r\n\r\nthe figures in clear\r\n"u8.ToArray()));
        signed.ComputeSignature(new CmsSigner(fixture.Alice.Certificate));
        var message = name switch
        {
            "opaque signature labelled enveloped-data" => Pkcs7("enveloped-data", signed.Encode()),
            "bytes that are no CMS labelled enveloped-data" => Pkcs7("enveloped-data", Encoding.ASCII.GetBytes("the figures in clear, base64 encoded")),
            "PGP armour followed by text in clear" => Headers + "Content-Type: text/plain\r\n\r\n" + Armour + "\r\nPS: the figures in clear\r\n",
            "multipart/encrypted around a plain part" => PgpMime("the figures in clear\r\n"),
            "PGP armour whose first packet is no session key" => Headers + "Content-Type: text/plain\r\n\r\n" + Armour.Replace("hQEMA5sZ", "yxR0aGUg", StringComparison.Ordinal),
            "PGP/MIME whose control part says more than its version" => PgpMime(Armour, control: "Version: 1\r\nthe figures in clear\r\n"),
            "PGP/MIME with text before its first part" => PgpMime(Armour, preamble: "the figures in clear\r\n"),
            "PGP/MIME with text after the client's preamble" => PgpMime(Armour, preamble: "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\nthe figures in clear\r\n"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        var (_, output, result) = Run(message);

        Assert.True(result.Encrypted, name);
        Assert.DoesNotContain("in clear", Encoding.ASCII.GetString(output));
        Assert.NotEmpty(Decrypt(output, fixture.Bob.Certificate));
    }

    public static TheoryData<string> ReallyEncrypted() => new()
    {
        "enveloped-data",
        "enveloped-data without smime-type",
        "inline PGP",
        "PGP/MIME",
        "PGP/MIME with Thunderbird's preamble",
    };

    [Theory]
    [MemberData(nameof(ReallyEncrypted))]
    public void BodyTheClientEncrypted_IsPassedOnByteForByte(string name)
    {
        var enveloped = new EnvelopedCms(new ContentInfo("Content-Type: text/plain\r\n\r\nsecret\r\n"u8.ToArray()));
        enveloped.Encrypt(new CmsRecipient(fixture.Bob.PublicCertificate));
        var message = name switch
        {
            "enveloped-data" => Pkcs7("enveloped-data", enveloped.Encode()),
            "enveloped-data without smime-type" => Pkcs7("enveloped-data", enveloped.Encode()).Replace("smime-type=enveloped-data; ", "", StringComparison.Ordinal),
            "inline PGP" => Headers + "Content-Type: text/plain\r\n\r\n\r\n" + Armour + "\r\n",
            "PGP/MIME" => PgpMime(Armour),
            "PGP/MIME with Thunderbird's preamble" => PgpMime(Armour, preamble: "This is an OpenPGP/MIME encrypted message (RFC 4880 and 3156)\r\n"),
            _ => throw new ArgumentOutOfRangeException(nameof(name)),
        };

        var (input, output, result) = Run(message);

        Assert.Equal(input, output);
        Assert.False(result.Encrypted);
        Assert.Contains("already encrypted", result.Note);
    }
}
