using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Inbound;

namespace Gateway.Tests.Inbound;

/// <summary>
/// Inbound decryption: the plaintext for recipients whose keys the message was encrypted to, the
/// message as it came for anyone else, and never a forged "decrypted" mark.
/// </summary>
public sealed class EnvelopeOpenerTests(PkiFixture pki) : IClassFixture<PkiFixture>
{
    private const string Entity = "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n\r\nThe quarterly figures, for Alice only.\r\n";
    private const string Outer = "Received: from mx.partner.test\r\nFrom: Bob <bob@partner.test>\r\nTo: Alice <alice@example.test>\r\nSubject: figures\r\nMIME-Version: 1.0\r\n";

    private static byte[] Encrypted(string entity, SubjectIdentifierType identifier, params X509Certificate2[] recipients)
    {
        var cms = new EnvelopedCms(new ContentInfo(Encoding.ASCII.GetBytes(entity)), new AlgorithmIdentifier(new Oid("2.16.840.1.101.3.4.1.42")));
        var list = new CmsRecipientCollection();
        foreach (var recipient in recipients) list.Add(new CmsRecipient(identifier, X509CertificateLoader.LoadCertificate(recipient.RawData)));
        cms.Encrypt(list);
        var base64 = Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks);
        return Encoding.ASCII.GetBytes(Outer +
            "Content-Type: application/pkcs7-mime; smime-type=enveloped-data; name=\"smime.p7m\"\r\n" +
            "Content-Transfer-Encoding: base64\r\nContent-Disposition: attachment; filename=\"smime.p7m\"\r\n\r\n" + base64 + "\r\n");
    }

    private Func<string, IReadOnlyList<X509Certificate2>> Keys(params (string Address, X509Certificate2 Key)[] keys) =>
        address => keys.Where(k => k.Address == address).Select(k => k.Key).ToList();

    [Theory]
    [InlineData(SubjectIdentifierType.IssuerAndSerialNumber)]
    [InlineData(SubjectIdentifierType.SubjectKeyIdentifier)]
    public void MessageEncryptedToOurUser_IsDecrypted_OuterHeadersKept_EnvelopeHeadersReplacedByTheEntity(SubjectIdentifierType identifier)
    {
        var result = EnvelopeOpener.Open(Encrypted(Entity, identifier, pki.Alice.Certificate), ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw.example.test", requireSignature: false);

        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.Equal(pki.Alice.Certificate.Thumbprint, result.Key!.Thumbprint);
        Assert.Equal("encrypt:aes-256-cbc keyTransport:rsaes-pkcs1-v1_5", result.Algorithms);
        // Outer headers; one MIME-Version; the entity's Content-* headers; the mark last; the entity's body.
        var expected = Outer + "Content-Type: text/plain; charset=us-ascii\r\nContent-Transfer-Encoding: 7bit\r\n" +
                       $"X-Gateway-Decrypted: by gw.example.test; certificate={pki.Alice.Certificate.Thumbprint}; cipher=aes-256-cbc\r\n\r\n" +
                       "The quarterly figures, for Alice only.\r\n";
        Assert.Equal(expected, Encoding.ASCII.GetString(result.Message));
    }

    [Theory]
    [InlineData("not a header field\r\n")]
    [InlineData(">From bob@partner.test Mon Jan  1 00:00:00 2026\r\n")]
    public void OuterHeaderWithALineThatIsNotAField_StaysEncrypted(string line)
    {
        // Postfix and mail clients end the header at such a line: the MIME headers of the plaintext
        // would become body text under it.
        var encrypted = Encoding.ASCII.GetString(Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate));
        var message = Encoding.ASCII.GetBytes(encrypted.Replace("Subject: figures\r\n", "Subject: figures\r\n" + line));
        var result = EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw", requireSignature: false);
        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
        Assert.Same(message, result.Message);
        Assert.Contains("not a header field", result.Reason);
    }

    [Fact]
    public void OlderKeyOfTheRecipient_StillOpensMailEncryptedToIt()
    {
        using var renewed = pki.Pki.Issue("alice@example.test");
        var result = EnvelopeOpener.Open(Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate), ["alice@example.test"],
            Keys(("alice@example.test", renewed.Certificate), ("alice@example.test", pki.Alice.Certificate)), "gw", requireSignature: false);
        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.Equal(pki.Alice.Certificate.Thumbprint, result.Key!.Thumbprint);
    }

    [Fact]
    public void RecipientTheSenderDidNotEncryptFor_KeepsTheWholeMessageEncrypted()
    {
        var message = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate);
        // Carol is internal too, and we hold her key: but the sender encrypted for Alice only.
        var result = EnvelopeOpener.Open(message, ["alice@example.test", "carol@partner.test"],
            Keys(("alice@example.test", pki.Alice.Certificate), ("carol@partner.test", pki.Carol.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.NotForOurKeys, result.Outcome);
        Assert.Same(message, result.Message);
        Assert.Contains("carol@partner.test", result.Reason);
        Assert.DoesNotContain("alice@example.test", result.Reason);
    }

    [Fact]
    public void MessageEncryptedToEveryRecipient_IsOpenedByEachOnesKey_ToTheSameContent()
    {
        var message = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate, pki.Carol.Certificate);
        var result = EnvelopeOpener.Open(message, ["alice@example.test", "carol@partner.test"],
            Keys(("alice@example.test", pki.Alice.Certificate), ("carol@partner.test", pki.Carol.Certificate)), "gw", requireSignature: false);
        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.EndsWith("\r\n\r\nThe quarterly figures, for Alice only.\r\n", Encoding.ASCII.GetString(result.Message));
    }

    [Fact]
    public void KeyWithoutItsPrivatePart_OrAnotherKey_DoesNotCount()
    {
        var message = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate);
        Assert.Equal(DecryptionOutcome.NotForOurKeys, EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.PublicCertificate)), "gw").Outcome);
        Assert.Equal(DecryptionOutcome.NotForOurKeys, EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", pki.Bob.Certificate)), "gw").Outcome);
    }

    [Theory]
    [InlineData("X-Gateway-Decrypted: by gw; certificate=00\r\n\tfolded\r\n")]
    [InlineData("x-gateway-decrypted: by gw\r\n")]
    [InlineData("X-Gateway-Decrypted : by gw\r\n")]
    [InlineData("X-Gateway-Decrypted\t: by gw\r\n")]
    public void ForgedDecryptedMark_IsRemovedFromAPlainMessage_AndNothingElseChanges(string forged)
    {
        var plain = Encoding.ASCII.GetBytes("From: mallory@evil.test\r\n" + forged + "Subject: trust me\r\n\r\nbody\r\n");
        Assert.Equal("From: mallory@evil.test\r\nSubject: trust me\r\n\r\nbody\r\n", Encoding.ASCII.GetString(EnvelopeOpener.WithoutMarker(plain)));
    }

    [Fact]
    public void ForgedNotDecryptedMark_IsRemovedToo()
    {
        var plain = Encoding.ASCII.GetBytes("From: mallory@evil.test\r\nX-Gateway-Not-Decrypted: by gw; reason=not-signed\r\nSubject: hi\r\n\r\nbody\r\n");
        Assert.Equal("From: mallory@evil.test\r\nSubject: hi\r\n\r\nbody\r\n", Encoding.ASCII.GetString(EnvelopeOpener.WithoutMarker(plain)));
    }

    [Fact]
    public void MessagePassedOnEncrypted_IsMarkedWithWhy_AboveItsHeaders_ItsBytesOtherwiseAsTheyCame()
    {
        var message = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate);
        var result = EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.NotSigned, result.Outcome);
        var marked = EnvelopeOpener.MarkedNotDecrypted(result.Message, "gw.example.test", EnvelopeOpener.NotDecryptedReason(result.Outcome));
        Assert.Equal("X-Gateway-Not-Decrypted: by gw.example.test; reason=not-signed\r\n" + Encoding.ASCII.GetString(message), Encoding.ASCII.GetString(marked));
    }

    [Fact]
    public void PlainMessage_PassesByteForByte()
    {
        var plain = Encoding.ASCII.GetBytes("From: bob@partner.test\nSubject: bare LF and all\n\nbody\n");
        Assert.Same(plain, EnvelopeOpener.WithoutMarker(plain));
        var result = EnvelopeOpener.Open(plain, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.NotEncrypted, result.Outcome);
        Assert.Same(plain, result.Message);
    }

    [Fact]
    public void EnvelopeThatIsNotCms_IsUnreadable_AndPassesAsItCame()
    {
        var broken = Encoding.ASCII.GetBytes(Outer + "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nTm90IENNUyBhdCBhbGw=\r\n");
        var result = EnvelopeOpener.Open(broken, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
        Assert.Same(broken, result.Message);
        Assert.StartsWith("not readable CMS enveloped-data", result.Reason);
    }

    [Fact]
    public void OpaqueSignedMessage_IsNotMistakenForEncryption()
    {
        var signed = Encoding.ASCII.GetBytes(Outer + "Content-Type: application/pkcs7-mime; smime-type=signed-data; name=smime.p7m\r\nContent-Transfer-Encoding: base64\r\n\r\nTm90IENNUyBhdCBhbGw=\r\n");
        Assert.Equal(DecryptionOutcome.NotEncrypted, EnvelopeOpener.Open(signed, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw").Outcome);
    }

    /// <summary>A multipart/signed entity, its first part signed by <paramref name="signer"/> (detached, as S/MIME clients sign).</summary>
    private static string SignedEntity(X509Certificate2 signer, string text)
    {
        var part = "Content-Type: text/plain; charset=us-ascii\r\n\r\n" + text + "\r\n";
        var cms = new SignedCms(new ContentInfo(Encoding.ASCII.GetBytes(part)), detached: true);
        cms.ComputeSignature(new CmsSigner(signer));
        var signature = Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks);
        return "Content-Type: multipart/signed; protocol=\"application/pkcs7-signature\"; micalg=sha-256; boundary=\"b1\"\r\n\r\n" +
               "--b1\r\n" + part + "\r\n--b1\r\nContent-Type: application/pkcs7-signature; name=smime.p7s\r\nContent-Transfer-Encoding: base64\r\n\r\n" +
               signature + "\r\n\r\n--b1--\r\n";
    }

    [Fact]
    public void SignedContent_IsDecrypted_AndItsSignatureStillVerifies()
    {
        var entity = SignedEntity(pki.Bob.Certificate, "Signed and sealed.");
        var result = EnvelopeOpener.Open(Encrypted(entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate), ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.True(SignatureCheck.Verifies(result.Message));
    }

    [Fact]
    public void UnsignedContent_OrContentWhoseSignatureFails_StaysEncrypted_ByDefault()
    {
        var unsigned = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate);
        var result = EnvelopeOpener.Open(unsigned, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.NotSigned, result.Outcome);
        Assert.Same(unsigned, result.Message);

        var tampered = SignedEntity(pki.Bob.Certificate, "Signed and sealed.").Replace("Signed and sealed.", "Signed and SEALED.");
        var bent = EnvelopeOpener.Open(Encrypted(tampered, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate), ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.NotSigned, bent.Outcome);
    }

    [Fact]
    public void RecipientInfoForgedToNameAnotherUser_DoesNotGiveThemThePlaintext()
    {
        // Mallory, who reads Carol's mailbox, adds to a message for Alice a RecipientInfo that names
        // Carol's certificate (issuer and serial are public) but wraps the key for a look-alike.
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=look-alike", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        using var lookAlike = request.Create(pki.Carol.Certificate.IssuerName, X509SignatureGenerator.CreateForRSA(key, RSASignaturePadding.Pkcs1),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(1), pki.Carol.Certificate.GetSerialNumber().Reverse().ToArray());
        var message = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate, lookAlike);

        var result = EnvelopeOpener.Open(message, ["alice@example.test", "carol@partner.test"],
            Keys(("alice@example.test", pki.Alice.Certificate), ("carol@partner.test", pki.Carol.Certificate)), "gw", requireSignature: false);
        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
        Assert.Same(message, result.Message);
        Assert.Contains("carol@partner.test", result.Reason);
    }

    [Fact]
    public void HeadersInsideTheEntity_OtherThanContentHeaders_DoNotReachTheHeaderBlock()
    {
        var entity = "From: ceo@example.test\r\nAuthentication-Results: mx.example.test; dkim=pass\r\nX-Gateway-Decrypted: by gw; certificate=FORGED\r\n" + Entity;
        var result = EnvelopeOpener.Open(Encrypted(entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate), ["alice@example.test"],
            Keys(("alice@example.test", pki.Alice.Certificate)), "gw", requireSignature: false);
        var text = Encoding.ASCII.GetString(result.Message);
        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.DoesNotContain("ceo@example.test", text);
        Assert.DoesNotContain("Authentication-Results", text);
        Assert.DoesNotContain("FORGED", text);
        Assert.Single(text.Split("\r\n"), l => l.StartsWith("X-Gateway-Decrypted", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void DecryptedContentThatIsNotAMimeEntity_StaysEncrypted()
    {
        var result = EnvelopeOpener.Open(Encrypted("just words, no header block\r\nand more\r\n", SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate),
            ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw", requireSignature: false);
        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
    }

    [Fact]
    public void AuthEnvelopedDataThatIsNotCms_IsUnreadable_AndPassesAsItCame()
    {
        var message = Encoding.ASCII.GetBytes(Outer + "Content-Type: application/pkcs7-mime; smime-type=authEnveloped-data\r\nContent-Transfer-Encoding: base64\r\n\r\nAAAA\r\n");
        var result = EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.Unreadable, result.Outcome);
        Assert.Contains("not readable CMS", result.Reason);
        Assert.Same(message, result.Message);
    }

    [Fact]
    public void SigningOnlyKey_DoesNotDecrypt()
    {
        using var signingOnly = pki.Pki.Issue("alice@example.test", new Gateway.Testing.Pki.CertificateOptions { KeyUsage = X509KeyUsageFlags.DigitalSignature });
        var message = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, signingOnly.Certificate);
        Assert.Equal(DecryptionOutcome.NotForOurKeys,
            EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", signingOnly.Certificate)), "gw", requireSignature: false).Outcome);
    }

    [Fact]
    public void BinaryBody_IsDecodedAsItCame_ItsLineFeedBytesUntouched()
    {
        // A DER body whose bytes include 0x0A: making the message CRLF would have added CRs into it.
        byte[] der;
        do
        {
            var cms = new EnvelopedCms(new ContentInfo(Encoding.ASCII.GetBytes(Entity)));
            cms.Encrypt(new CmsRecipient(SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.PublicCertificate));
            der = cms.Encode();
        }
        while (der.AsSpan().IndexOf((byte)'\n') < 0);
        var message = Encoding.ASCII.GetBytes(Outer + "Content-Type: application/pkcs7-mime; smime-type=enveloped-data\r\nContent-Transfer-Encoding: binary\r\n\r\n")
            .Concat(der).ToArray();

        var result = EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw", requireSignature: false);
        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.EndsWith("The quarterly figures, for Alice only.\r\n", Encoding.ASCII.GetString(result.Message));
    }
}
