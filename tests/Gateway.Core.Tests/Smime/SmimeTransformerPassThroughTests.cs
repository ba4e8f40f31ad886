using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using MimeKit;
using MimeKit.Cryptography;
using CmsRecipient = System.Security.Cryptography.Pkcs.CmsRecipient;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>What the client protected already, sign-only copies, and text that canonicalisation must not change.</summary>
public sealed class SmimeTransformerPassThroughTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private X509Certificate2[] BobAndCarol => [fixture.Bob.PublicCertificate, fixture.Carol.PublicCertificate];

    private byte[] ClientEncrypted(string contentType)
    {
        var cms = new EnvelopedCms(new ContentInfo(Encoding.ASCII.GetBytes("Content-Type: text/plain\r\n\r\nsecret\r\n")));
        cms.Encrypt(new CmsRecipient(fixture.Bob.PublicCertificate));
        var raw = $"From: alice@example.test\nTo: bob@partner.test\nSubject: already\nMIME-Version: 1.0\n" +
                  $"Content-Type: {contentType}; smime-type=enveloped-data; name=smime.p7m\n" +
                  "Content-Transfer-Encoding: base64\n\n" + Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\n") + "\n";
        return Encoding.ASCII.GetBytes(raw);
    }

    [Theory]
    [InlineData("application/pkcs7-mime")]
    [InlineData("application/x-pkcs7-mime")]
    public void AlreadyEncryptedInput_IsPassedThroughByteForByte_WithANote(string contentType)
    {
        var input = ClientEncrypted(contentType);

        var (output, result) = Transform(input, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], BobAndCarol);

        Assert.Equal(input, output);
        Assert.False(result.Signed);
        Assert.False(result.Encrypted);
        Assert.Empty(result.RecipientThumbprints);
        Assert.Contains("already encrypted", result.Note);
    }

    [Fact]
    public void AlreadySignedInput_IsNotSignedAgain_ButIsEncrypted_AndTheClientSignatureStillVerifies()
    {
        var (clientSigned, _) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

        var (output, result) = Transform(clientSigned, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], BobAndCarol);

        var (content, signature, _) = SplitSigned(Decrypt(output, fixture.Bob.Certificate));
        signature.CheckSignature(verifySignatureOnly: true);
        Assert.IsNotType<MultipartSigned>(MimeEntity.Load(new MemoryStream(content)));
        Assert.False(result.Signed);
        Assert.True(result.Encrypted);
        Assert.Null(result.SignerThumbprint);
        Assert.Contains("already signed", result.Note);
    }

    [Fact]
    public void AlreadySignedInput_WithoutRecipients_KeepsTheOneSignature()
    {
        var (clientSigned, _) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

        var (output, result) = Transform(clientSigned, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

        var (content, signature, _) = SplitSigned(output);
        signature.CheckSignature(verifySignatureOnly: true);
        Assert.IsNotType<MultipartSigned>(MimeEntity.Load(new MemoryStream(content)));
        Assert.False(result.Signed);
    }

    [Fact]
    public void SignOnly_GivesATopLevelMultipartSigned_WithHeadersOutsideAndCrlfOnly()
    {
        var (output, result) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

        AssertCrlfOnly(output);
        var (_, signature, _) = SplitSigned(output);
        signature.CheckSignature(verifySignatureOnly: true);
        var message = Load(output);
        Assert.Equal("Quarterly figures", message.Subject);
        Assert.Equal("1.0", message.Headers[HeaderId.MimeVersion]);
        Assert.True(result.Signed);
        Assert.False(result.Encrypted);
        Assert.DoesNotContain("encrypt", result.Algorithms);
    }

    [Fact]
    public void EncryptOnly_IsNotSigned()
    {
        var (output, result) = Transform(Serialise(Build()), null, [], BobAndCarol);

        var inner = MimeEntity.Load(new MemoryStream(Decrypt(output, fixture.Carol.Certificate)));
        var mixed = Assert.IsType<Multipart>(inner);
        Assert.Equal("multipart/mixed", mixed.ContentType.MimeType);
        Assert.False(result.Signed);
        Assert.True(result.Encrypted);
    }

    [Fact]
    public void NeitherSignNorEncrypt_KeepsTheContent_AndSaysNone()
    {
        var (output, result) = Transform(Serialise(Build()), null, [], []);

        var body = Assert.IsType<Multipart>(Load(output).Body);
        // A text part may change LF to CRLF (its canonical form), nothing else.
        Assert.Equal(AttachmentText, Encoding.UTF8.GetString(Decode((MimePart)body[1])).Replace("\r\n", "\n"));
        Assert.Equal("none", result.Algorithms);
        Assert.False(result.Signed || result.Encrypted);
    }

    [Fact]
    public void BodyLineStartingWithFrom_ReadsTheSameAfterSigning()
    {
        const string text = "Hi,\nFrom the desk of Alice: figures attached.\n";

        var (output, _) = Transform(Serialise(Build(text)), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

        var (content, signature, _) = SplitSigned(output);
        signature.CheckSignature(verifySignatureOnly: true);
        var body = Assert.IsType<TextPart>(Assert.IsType<Multipart>(MimeEntity.Load(new MemoryStream(content)))[0]);
        Assert.Equal(text, body.Text.Replace("\r\n", "\n"));
    }

    [Theory]
    [InlineData("flowed", "This paragraph is long enough to be \nwrapped by the client.\n")] // RFC 3676 soft line break
    [InlineData(null, "Regards,\n-- \nAlice, Finance\n")] // the "-- " signature separator
    public void TrailingSpaces_ReadTheSameAfterSigning(string? format, string text)
    {
        var message = Build(text);
        if (format is not null) ((TextPart)((Multipart)message.Body!)[0]).ContentType.Parameters["format"] = format;

        var (output, _) = Transform(Serialise(message), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

        var (content, signature, _) = SplitSigned(output);
        signature.CheckSignature(verifySignatureOnly: true);
        var body = Assert.IsType<TextPart>(Assert.IsType<Multipart>(MimeEntity.Load(new MemoryStream(content)))[0]);
        Assert.Equal(text, body.Text.Replace("\r\n", "\n"));
    }
}
