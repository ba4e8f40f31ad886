using System.Security.Cryptography.Pkcs;
using System.Text;
using Gateway.Inbound;
using Gateway.Policy;
using MimeKit;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// RFC 9788 header protection, by policy: the header fields travel inside the signature and the
/// encryption too, and under hideSubject an encrypted copy shows "[...]" outside, the real Subject
/// only inside, at the top of the text for clients that do not read protected headers. Checked on
/// the produced bytes with .NET's CMS, not with the transformer's own code.
/// </summary>
public sealed class HeaderProtectionTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private static readonly CryptoSettings HideSubject = CryptoSettings.Default with { HeaderProtection = HeaderProtection.HideSubject };
    private static readonly CryptoSettings Protected = CryptoSettings.Default with { HeaderProtection = HeaderProtection.Protected };

    private (byte[] Output, Gateway.Smime.SmimeResult Result) SignAndEncrypt(MimeMessage message, CryptoSettings crypto) =>
        Transform(Serialise(message), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [fixture.Bob.PublicCertificate], crypto);

    /// <summary>The signed part as Bob reads it, its signature checked over the exact bytes.</summary>
    private (MimeEntity Payload, string Raw) SignedPayload(byte[] output)
    {
        var (content, signature, _) = SplitSigned(Decrypt(output, fixture.Bob.Certificate));
        signature.CheckSignature(verifySignatureOnly: true);
        return (MimeEntity.Load(new MemoryStream(content)), Encoding.UTF8.GetString(content));
    }

    private static MimeMessage WithKeywords()
    {
        var message = Build();
        message.Headers.Add("Keywords", "merger, confidential");
        message.Headers.Add("Comments", "board only");
        message.Headers.Add("Thread-Topic", "Quarterly figures"); // Outlook and Exchange repeat the Subject
        message.Headers.Add(HeaderId.Received, "from mua.example.test by mx.example.test; Fri, 14 Mar 2025 09:26:50 +0000");
        message.Headers.Add("DKIM-Signature", "v=1; a=rsa-sha256; d=example.test; s=s1; b=AAAA");
        return message;
    }

    [Fact]
    public void HideSubject_EncryptedCopy_ShowsObscuredSubjectOutside_AndTheRealOneNowhereInItsBytes()
    {
        var (output, result) = SignAndEncrypt(WithKeywords(), HideSubject);

        var outside = Load(output);
        Assert.Equal("[...]", outside.Subject);
        Assert.Null(outside.Headers["Keywords"]);
        Assert.Null(outside.Headers["Comments"]);
        Assert.Null(outside.Headers["Thread-Topic"]);
        Assert.Equal("bob@partner.test", outside.To.Mailboxes.Single().Address); // addressing stays, MTAs need it
        Assert.Equal("test-1@example.test", outside.MessageId);
        var text = Encoding.Latin1.GetString(output);
        Assert.DoesNotContain("Quarterly", text);
        Assert.DoesNotContain("merger", text);
        Assert.Contains("headers:protected", result.Algorithms);
        Assert.Contains("subject:hidden", result.Algorithms);
    }

    [Fact]
    public void HideSubject_SignedPayload_CarriesTheHeaderFields_MarkedCipher_WithWhatTheOutsideShows()
    {
        var (output, _) = SignAndEncrypt(WithKeywords(), HideSubject);

        var (payload, raw) = SignedPayload(output);

        Assert.Equal("cipher", payload.ContentType.Parameters["hp"]);
        Assert.Equal("Quarterly figures", payload.Headers[HeaderId.Subject]);
        Assert.Equal("merger, confidential", payload.Headers["Keywords"]);
        Assert.Equal("Quarterly figures", payload.Headers["Thread-Topic"]);
        Assert.Contains("alice@example.test", payload.Headers[HeaderId.From]);
        Assert.Contains("carol@partner.test", payload.Headers[HeaderId.Cc]);
        Assert.Equal("<test-1@example.test>", payload.Headers[HeaderId.MessageId]);
        var outer = payload.Headers.Where(h => h.Field == "HP-Outer").Select(h => h.Value.Trim()).ToList();
        Assert.Contains("Subject: [...]", outer);
        Assert.Contains(outer, o => o.StartsWith("From: ", StringComparison.Ordinal) && o.Contains("alice@example.test"));
        Assert.Contains(outer, o => o.StartsWith("Message-Id: ", StringComparison.OrdinalIgnoreCase));
        // A field taken off the outside has no HP-Outer: its absence is the record (RFC 9788 §2.2).
        Assert.DoesNotContain(outer, o => o.StartsWith("Keywords", StringComparison.Ordinal) || o.StartsWith("Comments", StringComparison.Ordinal) || o.StartsWith("Thread-Topic", StringComparison.Ordinal));
        // What MTAs added on the way is not the sender's.
        Assert.DoesNotContain("Received:", raw);
        Assert.DoesNotContain("DKIM-Signature:", raw);
    }

    [Fact]
    public void HideSubject_TheTextBeginsWithTheSubject_ForClientsThatDoNotReadProtectedHeaders_AndTheAttachmentIsUntouched()
    {
        var (output, _) = SignAndEncrypt(Build(), HideSubject);

        var (payload, _) = SignedPayload(output);

        var mixed = Assert.IsType<Multipart>(payload);
        var text = Assert.IsType<TextPart>(mixed[0]);
        Assert.Equal("1", text.ContentType.Parameters["hp-legacy-display"]);
        Assert.Equal("Subject: Quarterly figures\n\nHello Bob,\nsee the attachment.\n", text.Text.ReplaceLineEndings("\n"));
        var attachment = Assert.IsAssignableFrom<MimePart>(mixed[1]);
        Assert.False(attachment.ContentType.Parameters.Contains("hp-legacy-display"));
        Assert.Equal(AttachmentText, Encoding.UTF8.GetString(Decode(attachment)));
    }

    [Fact]
    public void HideSubject_HtmlAndPlainAlternatives_BothShowTheSubject_TheHtmlInsideItsBody()
    {
        var message = Build();
        message.Body = new MultipartAlternative
        {
            new TextPart("plain") { Text = "Hello Bob.\n" },
            new TextPart("html") { Text = "<html><head><title>x</title></head><BODY class=\"m\"><p>Hello <b>Bob</b>.</p></BODY></html>" },
        };
        message.Subject = "Q3 <draft> & numbers";

        var (output, _) = SignAndEncrypt(message, HideSubject);

        var alternative = Assert.IsType<MultipartAlternative>(SignedPayload(output).Payload);
        Assert.StartsWith("Subject: Q3 <draft> & numbers\n\nHello Bob.", ((TextPart)alternative[0]).Text.ReplaceLineEndings("\n"));
        var html = (TextPart)alternative[1];
        Assert.Equal("1", html.ContentType.Parameters["hp-legacy-display"]);
        Assert.Equal(
            "<html><head><title>x</title></head><BODY class=\"m\"><div class=\"header-protection-legacy-display\"><pre>Subject: Q3 &lt;draft&gt; &amp; numbers</pre></div><p>Hello <b>Bob</b>.</p></BODY></html>",
            html.Text);
    }

    [Fact]
    public void HideSubject_ASubjectInAnotherScriptThanAnAsciiText_IsWrittenInUtf8()
    {
        var message = Build();
        message.Subject = "Grüße – 季度数字";

        var (output, _) = SignAndEncrypt(message, HideSubject);

        Assert.Equal("[...]", Load(output).Subject);
        var (payload, raw) = SignedPayload(output);
        Assert.Equal("Grüße – 季度数字", payload.Headers[HeaderId.Subject]);
        var text = (TextPart)((Multipart)payload)[0];
        Assert.Equal("utf-8", text.ContentType.Charset);
        Assert.StartsWith("Subject: Grüße – 季度数字\n\nHello Bob,", text.Text.ReplaceLineEndings("\n"));
        Assert.DoesNotContain(raw, c => c > 127); // still 7-bit under the signature
    }

    private static byte[] Raw(string headers, string body) =>
        Encoding.Latin1.GetBytes("From: alice@example.test\r\nTo: bob@partner.test\r\nMIME-Version: 1.0\r\n" + headers + "\r\n" + body);

    [Fact]
    public void HideSubject_TextWhoseCharsetLabelIsWrong_KeepsEveryByteItHad()
    {
        // Latin-1 bytes labelled UTF-8: decoded and encoded again, they would become U+FFFD.
        var (output, _) = Transform(Raw("Subject: Figures\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n", "Gr\u00fc\u00dfe aus K\u00f6ln\r\n"),
            null, [], [fixture.Bob.PublicCertificate], HideSubject);

        var part = Assert.IsType<TextPart>(MimeEntity.Load(new MemoryStream(Decrypt(output, fixture.Bob.Certificate))));
        Assert.Equal(Encoding.Latin1.GetBytes("Subject: Figures\r\n\r\nGr\u00fc\u00dfe aus K\u00f6ln\r\n"), Decode(part));
        Assert.Equal("utf-8", part.ContentType.Charset);
    }

    [Fact]
    public void HideSubject_HtmlWithoutACharsetLabel_KeepsItsBytes_AndGetsAnAsciiDisplay()
    {
        var html = "<html><head><meta charset=\"windows-1252\"><!-- a template: <body> comes below --><title>t</title></head><body><p>\u0093quoted\u0094 \u0080 5</p></body></html>";
        var (output, _) = Transform(Raw("Subject: Gr\u00fc\u00dfe\r\nContent-Type: text/html\r\nContent-Transfer-Encoding: 8bit\r\n", html + "\r\n"),
            null, [], [fixture.Bob.PublicCertificate], HideSubject);

        var part = Assert.IsType<TextPart>(MimeEntity.Load(new MemoryStream(Decrypt(output, fixture.Bob.Certificate))));
        var expected = html.Replace("<body><p>", "<body><div class=\"header-protection-legacy-display\"><pre>Subject: Gr&#252;&#223;e</pre></div><p>");
        Assert.Equal(Encoding.Latin1.GetBytes(expected + "\r\n"), Decode(part));
        Assert.Null(part.ContentType.Charset);
    }

    [Theory]
    [InlineData("utf-7")]
    [InlineData("utf-16")]
    [InlineData("x-no-such-charset")]
    public void HideSubject_TextInACharsetTheDisplayCannotGoInto_IsSentWithoutIt_AndSaysSo(string charset)
    {
        var (output, result) = Transform(Raw($"Subject: Figures\r\nContent-Type: text/plain; charset={charset}\r\nContent-Transfer-Encoding: base64\r\n", "//5oAGkA\r\n"),
            fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [fixture.Bob.PublicCertificate], HideSubject);

        Assert.Equal("[...]", Load(output).Subject);
        Assert.Contains("no text part to show the hidden Subject in", result.Note);
        var (payload, _) = SignedPayload(output);
        Assert.Equal("//5oAGkA", Convert.ToBase64String(Decode((MimePart)payload)));
    }

    [Fact]
    public void Protected_ARawUtf8Subject_IsCopiedInsideAsEncodedWords_SoTheSignedPartStays7Bit()
    {
        var (output, _) = Transform(Raw("Subject: Gr\u00c3\u00bc\u00c3\u009fe\r\nContent-Type: text/plain; charset=us-ascii\r\n", "hello\r\n"),
            fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [], Protected);

        var (content, signature, _) = SplitSigned(output);
        signature.CheckSignature(verifySignatureOnly: true);
        Assert.DoesNotContain(content, b => b > 127);
        Assert.Equal("Grüße", MimeEntity.Load(new MemoryStream(content)).Headers[HeaderId.Subject]);
    }

    [Fact]
    public void Protected_EncryptedCopy_KeepsTheSubjectOutside_AndRecordsIt()
    {
        var (output, result) = SignAndEncrypt(Build(), Protected);

        Assert.Equal("Quarterly figures", Load(output).Subject);
        var (payload, _) = SignedPayload(output);
        Assert.Equal("cipher", payload.ContentType.Parameters["hp"]);
        Assert.Equal("Quarterly figures", payload.Headers[HeaderId.Subject]);
        Assert.Contains(payload.Headers, h => h.Field == "HP-Outer" && h.Value.Trim() == "Subject: Quarterly figures");
        Assert.False(((Multipart)payload)[0].ContentType.Parameters.Contains("hp-legacy-display"));
        Assert.Contains("headers:protected", result.Algorithms);
        Assert.DoesNotContain("subject:hidden", result.Algorithms);
    }

    [Fact]
    public void HideSubject_SignedOnlyCopy_IsMarkedClear_AndChangesNothingOutside()
    {
        var (output, result) = Transform(Serialise(Build()), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [], HideSubject);

        var message = Load(output);
        Assert.Equal("Quarterly figures", message.Subject);
        var (content, signature, _) = SplitSigned(output);
        signature.CheckSignature(verifySignatureOnly: true);
        var payload = MimeEntity.Load(new MemoryStream(content));
        Assert.Equal("clear", payload.ContentType.Parameters["hp"]);
        Assert.Equal("Quarterly figures", payload.Headers[HeaderId.Subject]);
        Assert.DoesNotContain(payload.Headers, h => h.Field == "HP-Outer");
        Assert.DoesNotContain("subject:hidden", result.Algorithms);
    }

    [Fact]
    public void HideSubject_EncryptOnlyCopy_HidesTheSubject_InAnUnsignedPayload()
    {
        var (output, result) = Transform(Serialise(Build()), null, [], [fixture.Bob.PublicCertificate], HideSubject);

        Assert.Equal("[...]", Load(output).Subject);
        var payload = MimeEntity.Load(new MemoryStream(Decrypt(output, fixture.Bob.Certificate)));
        Assert.Equal("cipher", payload.ContentType.Parameters["hp"]);
        Assert.Equal("Quarterly figures", payload.Headers[HeaderId.Subject]);
        Assert.StartsWith("Subject: Quarterly figures\n\n", ((TextPart)((Multipart)payload)[0]).Text.ReplaceLineEndings("\n"));
        Assert.False(result.Signed);
    }

    [Fact]
    public void HideSubject_ABodyTheClientSignedWithSmime_KeepsItsSubjectOutside_AndSaysWhy()
    {
        const string firstPart = "Content-Type: text/plain\r\n\r\nthe figures";
        var cms = new SignedCms(new ContentInfo(Encoding.ASCII.GetBytes(firstPart)), detached: true);
        cms.ComputeSignature(new CmsSigner(fixture.Alice.Certificate));
        var message = "From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: client signed\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b\"\r\n\r\n" +
            "--b\r\n" + firstPart + "\r\n--b\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks) + "\r\n--b--\r\n";

        var (output, result) = Transform(Encoding.ASCII.GetBytes(message), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [fixture.Bob.PublicCertificate], HideSubject);

        Assert.Equal("client signed", Load(output).Subject);
        Assert.Contains("header protection not applied", result.Note);
        Assert.DoesNotContain("hp=", Encoding.ASCII.GetString(Decrypt(output, fixture.Bob.Certificate)));
    }

    [Fact]
    public void ByDefault_NothingIsCopiedInside()
    {
        var (output, result) = SignAndEncrypt(Build(), CryptoSettings.Default);

        var (payload, _) = SignedPayload(output);
        Assert.False(payload.ContentType.Parameters.Contains("hp"));
        Assert.Null(payload.Headers[HeaderId.Subject]);
        Assert.DoesNotContain("headers:", result.Algorithms);
    }

    private DecryptionResult OpenForBob(byte[] message, bool requireSignature = true) =>
        EnvelopeOpener.Open(message, ["bob@partner.test"], address => address == "bob@partner.test" ? [fixture.Bob.Certificate] : [], "gw.partner.test", requireSignature);

    [Fact]
    public void Inbound_ADecryptingGateway_ShowsItsReaderTheSubjectTheSenderHidInside()
    {
        var message = Build();
        message.Subject = "Grüße – Q3";
        var (output, _) = SignAndEncrypt(message, HideSubject);

        var opened = OpenForBob(output);

        Assert.Equal(DecryptionOutcome.Decrypted, opened.Outcome);
        var delivered = Load(opened.Message);
        Assert.Equal("Grüße – Q3", delivered.Subject);
        Assert.Single(delivered.Headers, h => h.Id == HeaderId.Subject);
        Assert.Contains("subject:protected", opened.Algorithms);
        // The signed part is passed on byte for byte: the reader's client still verifies it.
        var (_, signature, _) = SplitSigned(LineEndsCrlf(opened.Message));
        signature.CheckSignature(verifySignatureOnly: true);
    }

    [Fact]
    public void Inbound_AnEncryptOnlyPayloadMarkedCipher_GivesItsSubject_AndItsInjectedFieldsStayOutOfTheHeader()
    {
        var (output, _) = Transform(Serialise(Build()), null, [], [fixture.Bob.PublicCertificate], HideSubject);

        var opened = OpenForBob(output, requireSignature: false);

        var delivered = Load(opened.Message);
        Assert.Equal("Quarterly figures", delivered.Subject);
        Assert.Single(delivered.Headers, h => h.Id == HeaderId.From);
        Assert.DoesNotContain(delivered.Headers, h => h.Field == "HP-Outer");
    }

    [Theory]
    [InlineData("clear")]
    [InlineData(null)]
    public void Inbound_APayloadNotMarkedCipher_LeavesTheOuterSubject(string? hp)
    {
        var inner = "Subject: not from the sender's protection\r\nContent-Type: text/plain" + (hp is null ? "" : $"; hp=\"{hp}\"") + "\r\n\r\nbody\r\n";
        var message = "From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: [...]\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(EncryptTo(Encoding.ASCII.GetBytes(inner)), Base64FormattingOptions.InsertLineBreaks) + "\r\n";

        var opened = OpenForBob(Encoding.ASCII.GetBytes(message), requireSignature: false);

        Assert.Equal(DecryptionOutcome.Decrypted, opened.Outcome);
        Assert.Equal("[...]", Load(opened.Message).Subject);
        Assert.DoesNotContain("subject:protected", opened.Algorithms);
    }

    [Fact]
    public void Inbound_AnOpaqueSignature_GivesItsProtectedSubjectToo()
    {
        var (output, _) = SignAndEncrypt(Build(), HideSubject with { SignatureForm = SignatureForm.Opaque });

        var opened = OpenForBob(output);

        Assert.Equal(DecryptionOutcome.Decrypted, opened.Outcome);
        Assert.Equal("Quarterly figures", Load(opened.Message).Subject);
    }

    [Theory]
    [InlineData("[...]", "[...]", "Real subject")]                 // as the sender left it
    [InlineData("[SPAM] [...]", "[...]", "[SPAM] Real subject")]   // a filter's tag on the way is kept
    [InlineData("Something else", "[...]", null)]                 // rewritten on the way: left as it came
    [InlineData("Real subject", "Real subject", null)]            // nothing hidden: nothing to do
    [InlineData(null, null, "Real subject")]                      // the sender left no Subject outside
    [InlineData("Added on the way", null, null)]
    [InlineData("Important notice", "", null)]                    // an empty record is no tail to keep a tag before
    public void Inbound_TheOuterSubjectIsReplaced_OnlyWhereItIsWhatTheSenderLeftOutside(string? outer, string? recorded, string? shown)
    {
        Assert.Equal(shown, new ProtectedSubject("Real subject", "Real subject", recorded).Shown(outer));
    }

    /// <summary>An encrypted message for Bob whose payload is <paramref name="inner"/>, "[...]" outside.</summary>
    private byte[] EncryptedForBob(string inner) => Encoding.Latin1.GetBytes(
        "From: alice@example.test\r\nTo: bob@partner.test\r\nSubject: [...]\r\nMIME-Version: 1.0\r\n" +
        "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
        Convert.ToBase64String(EncryptTo(Encoding.Latin1.GetBytes(inner)), Base64FormattingOptions.InsertLineBreaks) + "\r\n");

    [Theory]
    [InlineData("hi\rBcc: evil@example.org")]   // a bare CR: a line end to some readers
    [InlineData("hi\0there")]
    [InlineData("hi\u001bthere")]
    public void Inbound_AnInnerSubjectWithAControlCharacter_IsNotPutIntoTheHeaderBlock(string subject)
    {
        var message = EncryptedForBob($"Subject: {subject}\r\nHP-Outer: Subject: [...]\r\nContent-Type: text/plain; hp=\"cipher\"\r\n\r\nbody\r\n");

        var opened = OpenForBob(message, requireSignature: false);

        Assert.Equal(DecryptionOutcome.Decrypted, opened.Outcome);
        var header = Encoding.Latin1.GetString(opened.Message).Split("\r\n\r\n")[0];
        Assert.Contains("Subject: [...]\r\n", header + "\r\n");
        Assert.DoesNotContain("evil", header);
        Assert.DoesNotContain('\0', header);
    }

    [Fact]
    public void Inbound_ALongInnerSubject_KeepsItsFolds_SoNoLineIsLongerThanAnMtaMayCarry()
    {
        var words = string.Join("\r\n ", Enumerable.Range(0, 60).Select(i => $"=?utf-8?q?Teil_{i:00}_=C3=BCber_die_Zahlen?="));
        var message = EncryptedForBob($"Subject: {words}\r\nHP-Outer: Subject: [...]\r\nContent-Type: text/plain; hp=\"cipher\"\r\n\r\nbody\r\n");

        var opened = OpenForBob(message, requireSignature: false);

        var delivered = Load(opened.Message);
        Assert.StartsWith("Teil 00 über die Zahlen", delivered.Subject);
        Assert.All(Encoding.Latin1.GetString(opened.Message).Split("\r\n"), line => Assert.True(line.Length <= 998, $"a line of {line.Length}"));
    }

    private byte[] EncryptTo(byte[] content)
    {
        var cms = new EnvelopedCms(new ContentInfo(content));
        cms.Encrypt(new CmsRecipient(fixture.Bob.PublicCertificate));
        return cms.Encode();
    }

    private static byte[] LineEndsCrlf(byte[] message) => Gateway.Mail.LineEnds.ToCrlf(message);
}
