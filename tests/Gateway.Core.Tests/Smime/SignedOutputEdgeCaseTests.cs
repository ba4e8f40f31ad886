using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing.Peers;
using MimeKit;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// What we sign, checked on the produced bytes: the hand-written detached SignedData, the signed part
/// written from the canonical bytes, and the recipient key cache, checked on the produced bytes
/// with a strict DER reader, SignedCms and openssl, not with the writers themselves.
/// </summary>
public sealed class SignedOutputEdgeCaseTests(PkiFixture fixture) : IClassFixture<PkiFixture>, IDisposable
{
    private const string SigningTimeOid = "1.2.840.113549.1.9.5";
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-fastpath-review-").FullName;

    /// <summary>
    /// RFC 5652 §11.3: dates from 2050 on MUST be GeneralizedTime. AsnWriter.WriteUtcTime without a
    /// two-digit-year limit writes "50…Z", which every reader decodes as 1950. SignedCms (the PSS
    /// path, and the RSA path before this branch) threw instead; the fast path signs a wrong date.
    /// </summary>
    [Theory]
    [InlineData(2049, 12, 31)]
    [InlineData(2050, 1, 1)]
    [InlineData(2071, 6, 30)]
    public void DetachedSignature_SigningTime_DecodesToTheSigningDate_AlsoFrom2050On(int year, int month, int day)
    {
        var when = new DateTimeOffset(year, month, day, 12, 0, 1, TimeSpan.Zero);
        var request = new SmimeRequest(fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [], CryptoSettings.Default);

        var encoded = DetachedSignatureWriter.Sign(new MemoryStream("content"u8.ToArray()), request, when);

        var cms = new SignedCms(new ContentInfo("content"u8.ToArray()), detached: true);
        cms.Decode(encoded);
        var attribute = cms.SignerInfos[0].SignedAttributes.Cast<CryptographicAttributeObject>().Single(a => a.Oid.Value == SigningTimeOid);
        var reader = new AsnReader(attribute.Values[0].RawData, AsnEncodingRules.DER);
        var tag = reader.PeekTag();
        DateTimeOffset decoded;
        if (tag.HasSameClassAndValue(Asn1Tag.UtcTime))
        {
            decoded = reader.ReadUtcTime(); // X.509/CMS rule: YY >= 50 is 19YY
            Assert.True(year < 2050, $"signingTime {when:yyyy-MM-dd} written as UTCTime, which reads back as {decoded:yyyy-MM-dd}");
        }
        else
        {
            Assert.True(tag.HasSameClassAndValue(Asn1Tag.GeneralizedTime), $"signingTime is neither UTCTime nor GeneralizedTime: {tag}");
            Assert.True(year >= 2050, "RFC 5652 §11.3: UTCTime for 1950–2049");
            decoded = reader.ReadGeneralizedTime();
        }
        Assert.Equal(when, decoded);
    }

    public static TheoryData<string, byte[]> AwkwardMessages()
    {
        static byte[] Ascii(string s) => Encoding.UTF8.GetBytes(s);
        const string Headers = "From: Alice <alice@example.test>\r\nTo: Bob <bob@partner.test>\r\nSubject: t\r\nMessage-ID: <r@example.test>\r\nMIME-Version: 1.0\r\n";
        var binary = new byte[3000];
        new Random(3).NextBytes(binary);
        return new TheoryData<string, byte[]>
        {
            { "empty body", Ascii(Headers + "Content-Type: text/plain\r\n\r\n") },
            { "no body at all", Ascii(Headers + "Content-Type: text/plain\r\n") },
            { "no trailing newline", Ascii(Headers + "Content-Type: text/plain\r\n\r\nHello\r\nno newline at the end") },
            { "LF only", Ascii((Headers + "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\nline \nFrom here\n").Replace("\r\n", "\n")) },
            { "5000-character line", Ascii(Headers + "Content-Type: text/plain\r\n\r\n" + new string('x', 5000) + "\r\nshort\r\n") },
            { "no Content-Type, header-like first line", Ascii("From: a@example.test\r\nTo: b@partner.test\r\nSubject: s\r\n\r\nName: value\r\nsecond\r\n") },
            { "multipart without a newline after its close delimiter", Ascii(Headers + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n--b1--") },
            {
                "binary attachment",
                [.. Ascii(Headers + "Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße\r\n--b1\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\n"),
                 .. binary, .. Ascii("\r\n--b1--\r\nepilogue")]
            },
        };
    }

    /// <summary>The first part, cut from the raw bytes at the boundaries (RFC 1847: the CRLF before a boundary is the boundary's), is what was signed; openssl agrees.</summary>
    [Theory]
    [MemberData(nameof(AwkwardMessages))]
    public async Task AwkwardBodies_SignedPartIsExactlyWhatWasSigned_AndOpenSslVerifies(string name, byte[] input)
    {
        foreach (var digest in new[] { SignatureDigest.Sha256, SignatureDigest.Sha512 })
        {
            var (output, _) = Transform(input, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [], CryptoSettings.Default with { Digest = digest });

            var (_, signature, _) = SplitSigned(output);
            signature.CheckSignature(verifySignatureOnly: true);
            AssertCrlfOnly(output);
            AssertStrictDer(signature.Encode());
            var verified = await OpenSsl(output, name);
            Assert.True(verified.Success, $"{name} ({digest}): {verified.Stderr}");
        }
    }

    /// <summary>A lone CR in a 7-bit text part makes it quoted-printable before signing: signed as is, openssl's text canonicalisation dropped it and the signature failed.</summary>
    [Fact]
    public async Task BareCrInSevenBitText_IsProtectedBeforeSigning_SoOpenSslVerifies()
    {
        var input = Encoding.ASCII.GetBytes("From: a@example.test\r\nTo: b@partner.test\r\nSubject: s\r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\nline one\rstill one\r\nend\r");

        var (output, _) = Transform(input, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

        SplitSigned(output).Signature.CheckSignature(verifySignatureOnly: true);
        var verified = await OpenSsl(output, "bare-cr");
        Assert.True(verified.Success, verified.Stderr);
    }

    /// <summary>
    /// A signed part inside the message (a list server's footer around a client's multipart/signed):
    /// signed again around it, its own signature still verifies. Made quoted-printable for its
    /// "-- " line, as a part of ours would be, it would not.
    /// </summary>
    [Fact]
    public async Task SignedPartInside_KeepsItsOwnSignatureValid()
    {
        const string signedText = "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\nRegards\r\n-- \r\nCarol\r\n";
        var cms = new SignedCms(new ContentInfo(Encoding.ASCII.GetBytes(signedText)), detached: true);
        cms.ComputeSignature(new CmsSigner(SubjectIdentifierType.IssuerAndSerialNumber, fixture.Carol.Certificate) { DigestAlgorithm = new Oid("2.16.840.1.101.3.4.2.1") });
        var inner = "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"in\"\r\n\r\n" +
            "--in\r\n" + signedText + "\r\n--in\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks) + "\r\n--in--\r\n";
        var input = Encoding.ASCII.GetBytes("From: Alice <alice@example.test>\r\nTo: Bob <bob@partner.test>\r\nSubject: s\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: multipart/mixed; boundary=\"out\"\r\n\r\n--out\r\n" + inner + "\r\n--out\r\nContent-Type: text/plain\r\n\r\nlist footer \r\n--out--\r\n");

        var (output, _) = Transform(input, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], []);

        var (content, outer, _) = SplitSigned(output);
        outer.CheckSignature(verifySignatureOnly: true);
        var verified = await OpenSsl(output, "signed-inside");
        Assert.True(verified.Success, verified.Stderr);
        var text = Encoding.ASCII.GetString(content);
        var start = text.IndexOf("--out\r\n", StringComparison.Ordinal) + "--out\r\n".Length;
        var innerBytes = Encoding.ASCII.GetBytes(text[start..text.IndexOf("\r\n--out", start, StringComparison.Ordinal)]);
        var (innerContent, innerSignature, _) = SplitSigned(innerBytes);
        Assert.Equal(signedText, Encoding.ASCII.GetString(innerContent));
        innerSignature.CheckSignature(verifySignatureOnly: true);
    }

    /// <summary>DER: SET OF sorted (digest algorithms, certificates, signer infos, signed attributes), definite minimal lengths; with an intermediate and SHA-384.</summary>
    [Fact]
    public void SignedData_WithAnIntermediate_IsStrictDer_AndVersionsAreOne()
    {
        var intermediate = fixture.Pki.CreateIntermediate("Review Intermediate");
        using var dora = fixture.Pki.Issue("dora@example.test", new Gateway.Testing.Pki.CertificateOptions { Issuer = intermediate, KeySize = 3072 });
        var (output, _) = Transform(Serialise(Build()), dora.Certificate, [dora.PublicCertificate, intermediate.Certificate], [],
            CryptoSettings.Default with { Digest = SignatureDigest.Sha384 });

        var (_, signature, entity) = SplitSigned(output);
        signature.CheckSignature(verifySignatureOnly: true);
        Assert.Equal("sha-384", entity.ContentType.Parameters["micalg"]);
        Assert.Equal(1, signature.Version);
        Assert.Equal(1, signature.SignerInfos[0].Version);
        Assert.Equal(2, signature.Certificates.Count);
        AssertStrictDer(Decode((MimePart)((MimeKit.Cryptography.MultipartSigned)entity)[1]));
    }

    /// <summary>Workers share the resolver's certificate objects: each message must decrypt for its own recipient and verify.</summary>
    [Fact]
    public async Task ConcurrentSignAndEncrypt_SharingCertificateObjects_EachDecryptsForItsRecipient()
    {
        var bob = fixture.Bob.PublicCertificate;
        var carol = fixture.Carol.PublicCertificate;
        var input = Serialise(Build());

        var outputs = await Task.WhenAll(Enumerable.Range(0, 24).Select(i => Task.Run(() =>
        {
            var toBob = i % 2 == 0;
            return (toBob, Transform(input, fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [toBob ? bob : carol]).Output);
        })));

        foreach (var (toBob, output) in outputs)
        {
            var plaintext = Decrypt(output, toBob ? fixture.Bob.Certificate : fixture.Carol.Certificate);
            SplitSigned(plaintext).Signature.CheckSignature(verifySignatureOnly: true);
            Assert.ThrowsAny<CryptographicException>(() => Decrypt(output, toBob ? fixture.Carol.Certificate : fixture.Bob.Certificate));
        }
    }

    private async Task<OpenSslResult> OpenSsl(byte[] output, string name)
    {
        var eml = Path.Combine(_folder, Guid.NewGuid().ToString("N") + ".eml");
        await File.WriteAllBytesAsync(eml, output);
        var ca = Path.Combine(_folder, "ca.pem");
        if (!File.Exists(ca)) await File.WriteAllTextAsync(ca, fixture.Pki.Root.CertificatePem);
        // -noverify: only the signature over the content is in question here, not the test chain.
        return await OpenSslCms.VerifyAsync(eml, ca, ["-noverify"]);
    }

    /// <summary>Reads the whole ContentInfo with DER rules: AsnReader rejects unsorted SET OF, indefinite or non-minimal lengths.</summary>
    private static void AssertStrictDer(byte[] encoded)
    {
        var contentInfo = new AsnReader(encoded, AsnEncodingRules.DER).ReadSequence();
        contentInfo.ReadObjectIdentifier();
        var signedData = contentInfo.ReadSequence(new Asn1Tag(TagClass.ContextSpecific, 0)).ReadSequence();
        Assert.True(signedData.TryReadInt32(out var version) && version == 1, "SignedData version 1");
        ReadAll(signedData.ReadSetOf()); // digestAlgorithms
        signedData.ReadSequence(); // encapContentInfo
        if (signedData.PeekTag().HasSameClassAndValue(new Asn1Tag(TagClass.ContextSpecific, 0, true)))
            ReadAll(signedData.ReadSetOf(new Asn1Tag(TagClass.ContextSpecific, 0))); // certificates
        var signerInfos = signedData.ReadSetOf();
        var signerInfo = signerInfos.ReadSequence();
        Assert.False(signerInfos.HasData, "one signer");
        signerInfo.ReadInteger();
        signerInfo.ReadSequence();
        signerInfo.ReadSequence();
        ReadAll(signerInfo.ReadSetOf(new Asn1Tag(TagClass.ContextSpecific, 0))); // signedAttrs, sorted
        signerInfo.ReadSequence();
        signerInfo.ReadOctetString();
        Assert.False(signedData.HasData || signerInfo.HasData);

        static void ReadAll(AsnReader set)
        {
            while (set.HasData) set.ReadEncodedValue();
        }
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
