using Gateway.Testing.Peers;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.EndToEnd;

/// <summary>Mail in over SMTP, out to a capturing upstream: signed, encrypted, refused, each as policy says.</summary>
public sealed class SmarthostEndToEndTests : GatewayRelayingToSink
{
    [Fact]
    public async Task InternalSenderToPartner_IsSignedAndEncrypted_AndOpenSslDecryptsAndVerifies()
    {
        var reply = await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "quarterly figures", "The secret figures.\r\n"),
            "alice@example.test", "bob@partner.test");
        Assert.Matches("^2.0.0 queued as [0-9A-Z]{22}$", reply);

        var captured = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal("alice@example.test", captured.MailFrom);
        Assert.Equal(["bob@partner.test"], captured.RcptTo);
        var text = System.Text.Encoding.ASCII.GetString(captured.Data);
        Assert.DoesNotContain("secret figures", text);
        Assert.Contains("application/pkcs7-mime; smime-type=enveloped-data", text);

        var eml = Path.Combine(World.Root, "relayed.eml");
        captured.WriteTo(eml);
        var decrypted = await OpenSslCms.DecryptAsync(eml, World.BobFiles.CertificatePath, World.BobFiles.KeyPath);
        Assert.True(decrypted.Success, decrypted.Stderr);
        var inner = Path.Combine(World.Root, "decrypted.eml");
        await File.WriteAllBytesAsync(inner, decrypted.Content);
        var verified = await OpenSslCms.VerifyAsync(inner, World.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);
        Assert.Contains("The secret figures.", verified.ContentText);
    }

    [Fact]
    public async Task RequiredRecipientWithoutCertificate_IsRefused_NeverReceivesAnything_AndTheSenderGetsADsn()
    {
        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "erin@partner.test", "for erin", "Plaintext erin must never see.\r\n"),
            "alice@example.test", "erin@partner.test", "bob@partner.test");

        var refused = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "refused", "erin@partner.test"));
        Assert.Contains("no encryption certificate known for erin@partner.test", refused.GetProperty("reason").GetString());
        Assert.StartsWith("550 5.7.10", refused.GetProperty("reply").GetString());

        var messages = await Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(20));
        await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "completed"));
        Assert.DoesNotContain(messages, m => m.RcptTo.Contains("erin@partner.test"));
        Assert.DoesNotContain(messages, m => System.Text.Encoding.ASCII.GetString(m.Data).Contains("Plaintext erin"));
        Assert.Single(messages, m => m.RcptTo.SequenceEqual(["bob@partner.test"]));

        var bounce = Assert.Single(messages, m => m.RcptTo.SequenceEqual(["alice@example.test"]));
        Assert.Equal("", bounce.MailFrom); // null sender: a bounce never bounces
        var report = Assert.IsType<MimeKit.MultipartReport>(bounce.Parse().Body);
        Assert.Equal("delivery-status", report.ReportType);
        var status = Assert.IsType<MimeKit.MessageDeliveryStatus>(report[1]);
        var recipient = status.StatusGroups[1];
        Assert.Equal("rfc822; erin@partner.test", recipient["Final-Recipient"]);
        Assert.Equal("failed", recipient["Action"]);
        Assert.Equal("5.7.10", recipient["Status"]);
        Assert.Contains("no valid certificate is known", ((MimeKit.TextPart)report[0]).Text);
        Assert.IsType<MimeKit.TextRfc822Headers>(report[2]);
    }

    [Fact]
    public async Task RecipientsWithDifferentTreatment_GetSeparateCopies_EachWithItsOwnEnvelope()
    {
        var message = RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "mixed", "Mixed treatment.\r\n");
        message.Cc.Add(MimeKit.MailboxAddress.Parse("carol@partner.test"));
        await Running.SendAsync(message, "alice@example.test", "bob@partner.test", "carol@partner.test", "dave@elsewhere.test");

        var messages = await Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(20));
        var encrypted = Assert.Single(messages, m => m.RcptTo.Contains("bob@partner.test"));
        Assert.Equal(["bob@partner.test", "carol@partner.test"], encrypted.RcptTo.Order());
        Assert.Equal(2, RecipientInfos(encrypted.Data));
        var signedOnly = Assert.Single(messages, m => m.RcptTo.Contains("dave@elsewhere.test"));
        Assert.Equal(["dave@elsewhere.test"], signedOnly.RcptTo);
        var signedText = System.Text.Encoding.ASCII.GetString(signedOnly.Data);
        Assert.Contains("multipart/signed", signedText);
        Assert.Contains("Mixed treatment.", signedText);
    }
    /// <summary>
    /// An envelope names a key of every recipient it is encrypted to: a Bcc recipient sharing Bob's
    /// copy would be shown to Bob. Carol, whom the header does not name, gets a copy of her own.
    /// </summary>
    [Fact]
    public async Task BccRecipient_GetsAnEncryptedCopyOfHerOwn_AndBobsCopyIsEncryptedToBobAlone()
    {
        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "bob@partner.test", "bcc", "Carol is in Bcc.\r\n"),
            "alice@example.test", "bob@partner.test", "carol@partner.test");

        var messages = await Sink.WaitForMessagesAsync(2, TimeSpan.FromSeconds(20));
        Assert.Equal(["bob@partner.test"], Assert.Single(messages, m => m.RcptTo.Contains("bob@partner.test")).RcptTo);
        Assert.Equal(["carol@partner.test"], Assert.Single(messages, m => m.RcptTo.Contains("carol@partner.test")).RcptTo);
        Assert.All(messages, m => Assert.Equal(1, RecipientInfos(m.Data)));
    }

    /// <summary>
    /// Carol's own encrypted copy hides her from Bob's envelope; a Bcc field left in the header,
    /// which stays outside the envelope, named her to everyone. Clients that submit directly (AUTH)
    /// send one; Postfix would have dropped it (message_drop_headers), Gateway now does too.
    /// </summary>
    [Fact]
    public async Task BccAndResentBccFields_AreInNoRelayedCopy_AndTheOtherHeaderFieldsAreKeptAsWritten()
    {
        await using (var smtp = await Gateway.Tests.Smtp.RawSmtpClient.ConnectAsync(Running.Port))
        {
            Assert.StartsWith("220", await smtp.ReadReplyAsync());
            Assert.StartsWith("250", await smtp.CommandAsync("EHLO client.example.test"));
            Assert.StartsWith("250", await smtp.CommandAsync("MAIL FROM:<alice@example.test>"));
            foreach (var to in new[] { "bob@partner.test", "carol@partner.test", "dave@elsewhere.test" })
                Assert.StartsWith("250", await smtp.CommandAsync($"RCPT TO:<{to}>"));
            Assert.StartsWith("354", await smtp.CommandAsync("DATA"));
            await smtp.SendAsync("From: alice@example.test\r\nTo: bob@partner.test\r\nCc: dave@elsewhere.test\r\nBcc: Carol\r\n <carol@partner.test>\r\n" +
                "Subject: hidden copy\r\nresent-bcc :carol@partner.test\r\nX-Kept:  as\twritten \r\nMIME-Version: 1.0\r\nContent-Type: text/plain\r\n\r\n" +
                "Bcc: a body line, not a field\r\n.\r\n");
            Assert.StartsWith("250", await smtp.ReadReplyAsync());
            await smtp.CommandAsync("QUIT");
        }

        var messages = await Sink.WaitForMessagesAsync(3, TimeSpan.FromSeconds(20));
        Assert.Equal(3, messages.Count);
        foreach (var message in messages)
        {
            var text = System.Text.Encoding.ASCII.GetString(message.Data);
            var header = text[..text.IndexOf("\r\n\r\n", StringComparison.Ordinal)];
            Assert.DoesNotContain("carol", header, StringComparison.OrdinalIgnoreCase);
            Assert.DoesNotContain("bcc", header, StringComparison.OrdinalIgnoreCase);
            Assert.Contains("\r\nSubject: hidden copy\r\nX-Kept:  as\twritten \r\n", header);
        }
        var daves = System.Text.Encoding.ASCII.GetString(Assert.Single(messages, m => m.RcptTo.SequenceEqual(["dave@elsewhere.test"])).Data);
        Assert.Contains("Bcc: a body line, not a field", daves);
    }

    private static int RecipientInfos(byte[] data)
    {
        var body = Assert.IsType<MimeKit.Cryptography.ApplicationPkcs7Mime>(MimeKit.MimeMessage.Load(new MemoryStream(data)).Body);
        using var der = new MemoryStream();
        body.Content!.DecodeTo(der);
        var envelope = new System.Security.Cryptography.Pkcs.EnvelopedCms();
        envelope.Decode(der.ToArray());
        return envelope.RecipientInfos.Count;
    }
}
