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
        var base64 = Convert.ToBase64String(cms.Encode(), Base64FormattingOptions.InsertLineBreaks).Replace("\r\n", "\r\n");
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
        var result = EnvelopeOpener.Open(Encrypted(Entity, identifier, pki.Alice.Certificate), ["alice@example.test"], Keys(("alice@example.test", pki.Alice.Certificate)), "gw.example.test");

        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.Equal(pki.Alice.Certificate.Thumbprint, result.Key!.Thumbprint);
        Assert.Equal("encrypt:aes-256-cbc keyTransport:rsaes-pkcs1-v1_5", result.Algorithms);
        var expected = Outer + $"X-Gateway-Decrypted: by gw.example.test; certificate={pki.Alice.Certificate.Thumbprint}\r\n" + Entity;
        Assert.Equal(expected, Encoding.ASCII.GetString(result.Message));
    }

    [Fact]
    public void OlderKeyOfTheRecipient_StillOpensMailEncryptedToIt()
    {
        using var renewed = pki.Pki.Issue("alice@example.test");
        var result = EnvelopeOpener.Open(Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate), ["alice@example.test"],
            Keys(("alice@example.test", renewed.Certificate), ("alice@example.test", pki.Alice.Certificate)), "gw");
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
    public void MessageForEveryRecipientWeHoldAKeyFor_IsDecryptedOnce()
    {
        var message = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate, pki.Carol.Certificate);
        var result = EnvelopeOpener.Open(message, ["alice@example.test", "carol@partner.test"],
            Keys(("alice@example.test", pki.Alice.Certificate), ("carol@partner.test", pki.Carol.Certificate)), "gw");
        Assert.Equal(DecryptionOutcome.Decrypted, result.Outcome);
        Assert.EndsWith(Entity, Encoding.ASCII.GetString(result.Message));
    }

    [Fact]
    public void KeyWithoutItsPrivatePart_OrAnotherKey_DoesNotCount()
    {
        var message = Encrypted(Entity, SubjectIdentifierType.IssuerAndSerialNumber, pki.Alice.Certificate);
        Assert.Equal(DecryptionOutcome.NotForOurKeys, EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", pki.Alice.PublicCertificate)), "gw").Outcome);
        Assert.Equal(DecryptionOutcome.NotForOurKeys, EnvelopeOpener.Open(message, ["alice@example.test"], Keys(("alice@example.test", pki.Bob.Certificate)), "gw").Outcome);
    }

    [Fact]
    public void ForgedDecryptedMark_IsRemovedFromAPlainMessage_AndNothingElseChanges()
    {
        var plain = Encoding.ASCII.GetBytes("From: mallory@evil.test\r\nX-Gateway-Decrypted: by gw; certificate=00\r\n\tfolded\r\nSubject: trust me\r\n\r\nbody\r\n");
        var result = EnvelopeOpener.Open(plain, ["alice@example.test"], Keys(), "gw");
        Assert.Equal(DecryptionOutcome.NotEncrypted, result.Outcome);
        Assert.Equal("From: mallory@evil.test\r\nSubject: trust me\r\n\r\nbody\r\n", Encoding.ASCII.GetString(result.Message));
    }

    [Fact]
    public void PlainMessage_PassesByteForByte()
    {
        var plain = Encoding.ASCII.GetBytes("From: bob@partner.test\nSubject: bare LF and all\n\nbody\n");
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
}
