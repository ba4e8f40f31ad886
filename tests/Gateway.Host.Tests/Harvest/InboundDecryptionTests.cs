using System.Text;
using Gateway.Testing.Peers;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Harvest;

/// <summary>
/// The inbound endpoint decrypts what partners encrypted to our users' keys (made by openssl and
/// by gpgsm, as partners' clients would), so that users read it without a key of their own; the
/// signature inside still verifies, and what was not encrypted for every recipient passes as it came.
/// </summary>
public sealed class InboundDecryptionTests : GatewayWithInboundEndpoint
{
    private static string Crlf(string text) => text.Replace("\r\n", "\n").Replace("\n", "\r\n");

    /// <summary>Frank at partner.test signs a note and encrypts it for <paramref name="recipientCertificates"/>, as his client would.</summary>
    private Task<byte[]> SignedAndEncryptedByFrankAsync(string to, params string[] recipientCertificates) =>
        SignedAndEncryptedByFrankAsync(to, "Content-Type: text/plain; charset=us-ascii\r\n\r\nThe figures, signed and sealed.\r\n", "figures", recipientCertificates);

    /// <summary>Frank signs <paramref name="entity"/> and encrypts it, <paramref name="subject"/> outside.</summary>
    private async Task<byte[]> SignedAndEncryptedByFrankAsync(string to, string entity, string subject, string[] recipientCertificates)
    {
        var frank = World.Pki.Issue("frank@partner.test").WriteTo(Path.Combine(World.Root, "frank"), "x");
        var body = Path.Combine(World.Root, "body.mime");
        await File.WriteAllTextAsync(body, entity);
        var signed = Path.Combine(World.Root, "signed.mime");
        var signing = await OpenSslCms.SignAsync(body, signed, frank.CertificatePath, frank.KeyPath);
        Assert.True(signing.Success, signing.Stderr);
        await File.WriteAllTextAsync(signed, Crlf(await File.ReadAllTextAsync(signed)));
        var encrypted = Path.Combine(World.Root, "encrypted.eml");
        var encryption = await OpenSslCms.EncryptAsync(signed, encrypted, recipientCertificates, headers: new MessageHeaders("frank@partner.test", to, subject), binary: true);
        Assert.True(encryption.Success, encryption.Stderr);
        return Encoding.ASCII.GetBytes(Crlf(await File.ReadAllTextAsync(encrypted)));
    }

    [Fact]
    public async Task SignedThenEncryptedForOurUser_ArrivesDecrypted_ItsSignatureStillVerifies_AndTheSignerIsHarvested()
    {
        var message = await SignedAndEncryptedByFrankAsync("alice@example.test", World.AliceFiles.CertificatePath);
        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));

        var passed = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        var text = Encoding.ASCII.GetString(passed.Data);
        Assert.DoesNotContain("application/pkcs7-mime", text);
        Assert.Contains("Content-Type: multipart/signed", text);
        Assert.Contains("The figures, signed and sealed.", text);
        Assert.Contains($"X-Gateway-Decrypted: by gw.example.test; certificate={World.Alice.Certificate.Thumbprint}; cipher=aes-256-cbc\r\n", text);
        Assert.Contains("Subject: figures\r\n", text);
        Assert.Single(text.Split("\r\n\r\n")[0].Split("\r\n"), l => l.StartsWith("MIME-Version:", StringComparison.OrdinalIgnoreCase));

        // An independent implementation checks the signature over what the user receives.
        var received = Path.Combine(World.Root, "received.eml");
        await File.WriteAllBytesAsync(received, passed.Data);
        var verified = await OpenSslCms.VerifyAsync(received, World.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);

        var decrypted = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-decrypted"));
        Assert.Equal(World.Alice.Certificate.Thumbprint, decrypted.GetProperty("recipientCertificates")[0].GetString());
        Assert.Equal("encrypt:aes-256-cbc keyTransport:rsaes-pkcs1-v1_5", decrypted.GetProperty("algorithms").GetString());
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "certificate-harvested", "frank@partner.test"));
    }

    /// <summary>
    /// A partner's client that protects headers (RFC 9788, the shape of its Appendix C: the fields
    /// inside the signed part, hp="cipher", HP-Outer) sends "[...]" outside; our user, whose client
    /// may not read protected headers, gets the real Subject, and the signature still verifies.
    /// </summary>
    [Fact]
    public async Task MailWithAProtectedSubject_ArrivesWithTheSubjectItsSenderHidInside()
    {
        var message = await SignedAndEncryptedByFrankAsync("alice@example.test",
            "Subject: Offer for the Lisbon site\r\nFrom: frank@partner.test\r\nTo: alice@example.test\r\n" +
            "HP-Outer: Subject: [...]\r\nHP-Outer: From: frank@partner.test\r\nHP-Outer: To: alice@example.test\r\n" +
            "Content-Type: text/plain; charset=us-ascii; hp=\"cipher\"\r\n\r\nThe offer stands until Friday.\r\n",
            "[...]", [World.AliceFiles.CertificatePath]);

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));

        var passed = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        var header = Encoding.ASCII.GetString(passed.Data).Split("\r\n\r\n")[0];
        Assert.Contains("Subject: Offer for the Lisbon site\r\n", header + "\r\n");
        Assert.DoesNotContain("[...]", header);
        var received = Path.Combine(World.Root, "received.eml");
        await File.WriteAllBytesAsync(received, passed.Data);
        var verified = await OpenSslCms.VerifyAsync(received, World.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);
        var decrypted = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-decrypted"));
        Assert.EndsWith(" subject:protected", decrypted.GetProperty("algorithms").GetString());
    }

    /// <summary>
    /// Two sites running Gateway: the partner's hides the Subject (hideSubject), ours shows our user
    /// the real one; nothing between them saw it, and the partner's signature still verifies.
    /// </summary>
    [Fact]
    public async Task MailFromAGatewayThatHidTheSubject_ArrivesWithIt_ItsSignatureStillVerifying()
    {
        using var frank = World.Pki.Issue("frank@partner.test");
        var original = new MimeKit.MimeMessage();
        original.From.Add(MimeKit.MailboxAddress.Parse("frank@partner.test"));
        original.To.Add(MimeKit.MailboxAddress.Parse("alice@example.test"));
        original.Subject = "Übernahme: Termine für Freitag";
        original.Body = new MimeKit.MultipartAlternative
        {
            new MimeKit.TextPart("plain") { Text = "The dates.\r\n" },
            new MimeKit.TextPart("html") { Text = "<html><body><p>The dates.</p></body></html>" },
        };
        using var plain = new MemoryStream();
        original.WriteTo(plain);
        plain.Position = 0;
        using var sealedCopy = new MemoryStream();
        var crypto = Gateway.Policy.CryptoSettings.Default with { HeaderProtection = Gateway.Policy.HeaderProtection.HideSubject };
        Gateway.Smime.SmimeTransformer.Transform(plain, new Gateway.Smime.SmimeRequest(frank.Certificate, [frank.PublicCertificate], [World.Alice.PublicCertificate], crypto),
            sealedCopy, DateTimeOffset.UtcNow, CancellationToken.None);
        Assert.DoesNotContain("Termine", Encoding.Latin1.GetString(sealedCopy.ToArray()));

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], sealedCopy.ToArray()));

        var passed = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal("Übernahme: Termine für Freitag", MimeKit.MimeMessage.Load(new MemoryStream(passed.Data)).Subject);
        var received = Path.Combine(World.Root, "received.eml");
        await File.WriteAllBytesAsync(received, passed.Data);
        var verified = await OpenSslCms.VerifyAsync(received, World.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);
    }

    /// <summary>
    /// The sender wrote what is inside the envelope too: a bare CR there, decrypted and sent on by
    /// DATA, would end the data early for an internal MTA that takes it for a line end, and what
    /// follows would arrive from us as a second message (SMTP smuggling). Such a message goes on encrypted.
    /// </summary>
    [Fact]
    public async Task EncryptedMailWithABareCrInside_PassesOnEncrypted()
    {
        World.Settings["Gateway:Harvest:DecryptUnsigned"] = "true";
        await RestartAsync();
        var entity = Path.Combine(World.Root, "smuggling.mime");
        await File.WriteAllBytesAsync(entity, Encoding.ASCII.GetBytes("Content-Type: text/plain; charset=us-ascii\r\n\r\nfirst\r.\r\nMAIL FROM:<ceo@example.test>\r\n"));
        var encrypted = Path.Combine(World.Root, "smuggling.eml");
        Assert.True((await OpenSslCms.EncryptAsync(entity, encrypted, [World.AliceFiles.CertificatePath], headers: new MessageHeaders("frank@partner.test", "alice@example.test", "smuggling"), binary: true)).Success);
        var message = Encoding.ASCII.GetBytes(Crlf(await File.ReadAllTextAsync(encrypted)));

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));

        Assert.Equal(message, BelowOurReceivedLine(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data, "bare-cr"));
        var kept = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-not-decrypted"));
        Assert.Equal("the decrypted message has a bare CR", kept.GetProperty("reason").GetString());
    }

    /// <summary>
    /// Inside CMS anything may be; on the wire to the internal MTA a NUL or a line over 998 octets
    /// may not (there is no BINARYMIME), and a message its bare LFs made larger than
    /// Smtp:MaxMessageSize would be refused after the dot, and bounced by the sender.
    /// </summary>
    [Theory]
    [InlineData("nul", "binary", "the decrypted message has a NUL, which SMTP cannot carry")]
    [InlineData("long-line", "binary", "the decrypted message has a line over 998 octets, which SMTP cannot carry")]
    [InlineData("bare-lfs", "too-large", "the decrypted message is larger than Gateway:Smtp:MaxMessageSize")]
    public async Task EncryptedMailWhoseContentSmtpCannotCarry_PassesOnEncrypted(string content, string mark, string reason)
    {
        World.Settings["Gateway:Harvest:DecryptUnsigned"] = "true";
        await RestartAsync();
        var body = content switch
        {
            "nul" => "Content-Type: application/octet-stream\r\nContent-Transfer-Encoding: binary\r\n\r\nbefore\0after\r\n",
            "long-line" => $"Content-Type: text/plain\r\n\r\n{new string('x', 1200)}\r\n",
            _ => $"Content-Type: text/plain\n\n{new string('\n', 60_000)}", // 60 kB, 120 kB as CRLF: over the 100 kB limit
        };
        var entity = Path.Combine(World.Root, "binary.mime");
        await File.WriteAllBytesAsync(entity, Encoding.ASCII.GetBytes(body));
        var encrypted = Path.Combine(World.Root, "binary.eml");
        Assert.True((await OpenSslCms.EncryptAsync(entity, encrypted, [World.AliceFiles.CertificatePath], headers: new MessageHeaders("frank@partner.test", "alice@example.test", "binary"), binary: true)).Success);
        var message = Encoding.ASCII.GetBytes(Crlf(await File.ReadAllTextAsync(encrypted)));

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));

        Assert.Equal(message, BelowOurReceivedLine(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data, mark));
        var kept = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-not-decrypted"));
        Assert.Equal(reason, kept.GetProperty("reason").GetString());
    }

    /// <summary>Sessions run side by side: only the Message-ID ties a decryption line to the message passed on.</summary>
    [Fact]
    public async Task InboundLines_CarryTheMessageId_SoConcurrentSessionsCanBeToldApart()
    {
        var message = Encoding.ASCII.GetBytes("Message-ID: <figures-1@partner.test>\r\n")
            .Concat(await SignedAndEncryptedByFrankAsync("alice@example.test", World.AliceFiles.CertificatePath)).ToArray();
        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));

        var decrypted = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-decrypted"));
        Assert.Equal("<figures-1@partner.test>", decrypted.GetProperty("messageId").GetString());
        var passed = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-passed"));
        Assert.Equal("<figures-1@partner.test>", passed.GetProperty("messageId").GetString());
    }

    [Fact]
    public async Task UnsignedEncryptedMail_PassesOnEncrypted_UnlessDecryptUnsignedIsOn()
    {
        var entity = Path.Combine(World.Root, "entity.mime");
        await File.WriteAllTextAsync(entity, "Content-Type: text/plain; charset=us-ascii\r\n\r\nSealed, not signed.\r\n");
        var encrypted = Path.Combine(World.Root, "unsigned.eml");
        Assert.True((await OpenSslCms.EncryptAsync(entity, encrypted, [World.AliceFiles.CertificatePath], headers: new MessageHeaders("frank@partner.test", "alice@example.test", "unsigned"))).Success);
        var message = Encoding.ASCII.GetBytes(Crlf(await File.ReadAllTextAsync(encrypted)));

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));
        Assert.Equal(message, BelowOurReceivedLine(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data, "not-signed"));
        var kept = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-not-decrypted"));
        Assert.Contains("not signed", kept.GetProperty("reason").GetString());

        World.Settings["Gateway:Harvest:DecryptUnsigned"] = "true";
        await RestartAsync();
        Sink.Clear();
        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));
        Assert.EndsWith("\r\n\r\nSealed, not signed.\r\n", Encoding.ASCII.GetString(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data));
    }

    /// <summary>
    /// AES-GCM from a partner's client (openssl here): decrypted although unsigned and
    /// Harvest:DecryptUnsigned is off, because GCM's tag, unlike CBC, proves the content unchanged.
    /// </summary>
    [Fact]
    public async Task UnsignedMailInAesGcm_IsDecrypted_ItsTagProvesItUnchanged()
    {
        var entity = Path.Combine(World.Root, "entity.mime");
        await File.WriteAllTextAsync(entity, "Content-Type: text/plain; charset=us-ascii\r\n\r\nSealed with GCM.\r\n");
        var encrypted = Path.Combine(World.Root, "gcm.eml");
        var encryption = await OpenSslCms.EncryptAsync(entity, encrypted, [World.AliceFiles.CertificatePath], cipher: "aes-256-gcm",
            headers: new MessageHeaders("frank@partner.test", "alice@example.test", "gcm"));
        Assert.True(encryption.Success, encryption.Stderr);
        var message = Encoding.ASCII.GetBytes(Crlf(await File.ReadAllTextAsync(encrypted)));
        Assert.Contains("smime-type=authEnveloped-data", Encoding.ASCII.GetString(message));

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));

        var text = Encoding.ASCII.GetString(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data);
        Assert.EndsWith("\r\n\r\nSealed with GCM.\r\n", text);
        Assert.Contains($"X-Gateway-Decrypted: by gw.example.test; certificate={World.Alice.Certificate.Thumbprint}; cipher=aes-256-gcm\r\n", text);
        var decrypted = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-decrypted"));
        Assert.Equal("encrypt:aes-256-gcm keyTransport:rsaes-pkcs1-v1_5", decrypted.GetProperty("algorithms").GetString());
    }

    /// <summary>
    /// With inbound decryption on, the signatures Gateway makes say (SMIMECapabilities, AES-GCM
    /// first) that replies may use AES-GCM; with it off, they name CBC ciphers only.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task OurSignatures_NameAesGcmFirst_OnlyWhenInboundMailIsDecryptedHere(bool decrypt)
    {
        if (!decrypt)
        {
            World.Settings["Gateway:Harvest:Decrypt"] = "false";
            await RestartAsync();
        }
        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@other.test", "signed"), "alice@example.test", "dave@other.test");

        var signed = MimeKit.MimeMessage.Load(new MemoryStream(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data));
        var signature = Assert.IsType<MimeKit.Cryptography.ApplicationPkcs7Signature>(Assert.IsType<MimeKit.Cryptography.MultipartSigned>(signed.Body)[1]);
        using var der = new MemoryStream();
        signature.Content!.DecodeTo(der);
        var cms = new System.Security.Cryptography.Pkcs.SignedCms();
        cms.Decode(der.ToArray());
        var attribute = cms.SignerInfos[0].SignedAttributes.Cast<System.Security.Cryptography.CryptographicAttributeObject>().Single(a => a.Oid.Value == "1.2.840.113549.1.9.15");
        var capabilities = Gateway.Smime.SmimeCapabilities.Parse(attribute.Values[0].RawData)!.Algorithms;
        if (decrypt) Assert.Equal("2.16.840.1.101.3.4.1.46", capabilities[0]);
        else Assert.DoesNotContain(capabilities, oid => oid is "2.16.840.1.101.3.4.1.46" or "2.16.840.1.101.3.4.1.6");
    }

    /// <summary>A user whose identity is an EC key (as the built-in CA issues with Ca:KeyType EcdsaP256): a partner's ECDH key agreement is opened for them.</summary>
    [Fact]
    public async Task MailEncryptedByKeyAgreementToAnEcUser_IsDecrypted()
    {
        using var eve = World.Pki.Issue("eve@example.test", new Gateway.Testing.Pki.CertificateOptions { EcCurve = System.Security.Cryptography.ECCurve.NamedCurves.nistP256 });
        var eveFiles = eve.WriteTo(World.Certificates, GatewayWorld.Pkcs12Password);
        var entity = Path.Combine(World.Root, "entity.mime");
        await File.WriteAllTextAsync(entity, "Content-Type: text/plain; charset=us-ascii\r\n\r\nFor Eve, by key agreement.\r\n");
        var encrypted = Path.Combine(World.Root, "ecdh.eml");
        var encryption = await OpenSslCms.EncryptAsync(entity, encrypted, [eveFiles.CertificatePath], headers: new MessageHeaders("frank@partner.test", "eve@example.test", "ecdh"));
        Assert.True(encryption.Success, encryption.Stderr);
        World.Settings["Gateway:Harvest:DecryptUnsigned"] = "true"; // unsigned CBC: allowed here, to keep the test to the key agreement
        await RestartAsync(); // which reads the folder with Eve's identity, too

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["eve@example.test"], Encoding.ASCII.GetBytes(Crlf(await File.ReadAllTextAsync(encrypted)))));

        Assert.EndsWith("\r\n\r\nFor Eve, by key agreement.\r\n", Encoding.ASCII.GetString(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data));
        var decrypted = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-decrypted"));
        Assert.Equal("encrypt:aes-256-cbc keyAgreement:ecdh-sha1kdf-aes256wrap", decrypted.GetProperty("algorithms").GetString());
    }

    [Fact]
    public async Task ForgedDecryptedMark_IsRemoved_EvenWithDecryptOff()
    {
        World.Settings["Gateway:Harvest:Decrypt"] = "false";
        await RestartAsync();
        var forged = Encoding.ASCII.GetBytes("From: mallory@evil.test\r\nTo: alice@example.test\r\nX-Gateway-Decrypted : by gw.example.test\r\nSubject: trust me\r\n\r\nbody\r\n");
        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "mallory@evil.test", ["alice@example.test"], forged));
        var text = Encoding.ASCII.GetString(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data);
        Assert.DoesNotContain("X-Gateway-Decrypted", text, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("Subject: trust me\r\n", text);
    }

    [Fact]
    public async Task MailEncryptedByGpgsm_IsDecryptedToo()
    {
        // gpgsm encrypts a MIME entity without signing it inside (its --sign --encrypt nests CMS, not MIME).
        World.Settings["Gateway:Harvest:DecryptUnsigned"] = "true";
        await RestartAsync();
        await using var gpgsm = await Gpgsm.CreateAsync(World.CaCertificatePath);
        Assert.True((await gpgsm.ImportCertificateAsync(World.AliceFiles.CertificatePath)).Success);
        var entity = Path.Combine(World.Root, "entity.mime");
        await File.WriteAllTextAsync(entity, "Content-Type: text/plain; charset=us-ascii\r\n\r\nSealed by gpgsm.\r\n");
        var der = Path.Combine(World.Root, "gpgsm.p7m");
        var encrypted = await gpgsm.RunAsync(["--batch", "--yes", "--encrypt", "--recipient", World.Alice.Certificate.Thumbprint, "--output", der, entity]);
        Assert.True(encrypted.ExitCode == 0, encrypted.Stderr);
        var message = Encoding.ASCII.GetBytes(
            "From: frank@partner.test\r\nTo: alice@example.test\r\nSubject: from gpgsm\r\nMIME-Version: 1.0\r\n" +
            "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
            Convert.ToBase64String(await File.ReadAllBytesAsync(der), Base64FormattingOptions.InsertLineBreaks) + "\r\n");

        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));
        var text = Encoding.ASCII.GetString(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data);
        Assert.Contains("Content-Type: text/plain; charset=us-ascii\r\n", text);
        Assert.EndsWith("\r\n\r\nSealed by gpgsm.\r\n", text);
        Assert.Contains("Subject: from gpgsm\r\n", text);
        Assert.DoesNotContain("pkcs7-mime", text);
    }

    [Fact]
    public async Task MessageNotEncryptedForEveryRecipient_PassesOnEncrypted_AsItCame()
    {
        // Encrypted for Alice only, but the envelope also names dave, who would get her plaintext.
        var message = await SignedAndEncryptedByFrankAsync("alice@example.test", World.AliceFiles.CertificatePath);
        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test", "dave@example.test"], message));

        var passed = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal(message, BelowOurReceivedLine(passed.Data, "not-for-our-keys"));
        var refused = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "inbound-not-decrypted"));
        Assert.Contains("dave@example.test", refused.GetProperty("reason").GetString());
        Assert.Equal("passed on encrypted", refused.GetProperty("action").GetString());
    }

    [Fact]
    public async Task WithDecryptOff_EncryptedMailPassesOnAsItCame()
    {
        World.Settings["Gateway:Harvest:Decrypt"] = "false";
        await RestartAsync();
        var message = await SignedAndEncryptedByFrankAsync("alice@example.test", World.AliceFiles.CertificatePath);
        Assert.StartsWith("250", await SendAsync(await InboundPortAsync(), "frank@partner.test", ["alice@example.test"], message));
        Assert.Equal(message, BelowOurReceivedLine(Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20))).Data));
        Assert.DoesNotContain(Running.AuditEvents(), e => RunningGateway.Is(e, "inbound-decrypted") || RunningGateway.Is(e, "inbound-not-decrypted"));
    }
}
