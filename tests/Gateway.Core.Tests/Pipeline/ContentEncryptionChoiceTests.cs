using System.Formats.Asn1;
using Gateway.Certificates;
using Gateway.Pipeline;
using Gateway.Policy;
using Gateway.Smime;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// AES-GCM only where every certificate of the copy came with SMIMECapabilities naming it; the
/// rule's cipher wherever anything is unknown, and always when the rule says never.
/// </summary>
public sealed class ContentEncryptionChoiceTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string Aes256Gcm = "2.16.840.1.101.3.4.1.46";
    private const string Aes128Gcm = "2.16.840.1.101.3.4.1.6";
    private const string Aes256Cbc = "2.16.840.1.101.3.4.1.42";

    private static SmimeCapabilities Capabilities(params string[] oids) => SmimeCapabilities.Parse(Der(oids))!;

    private static byte[] Der(params string[] oids)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var oid in oids)
            {
                using (writer.PushSequence()) writer.WriteObjectIdentifier(oid);
            }
        }
        return writer.Encode();
    }

    private CertificateChoice Choice(SmimeCapabilities? selected, params SmimeCapabilities?[] others) =>
        new(new CertificateCandidate(fixture.Bob.PublicCertificate, "harvested") { Capabilities = selected }, [], "test", [])
        {
            AlsoUsable = others.Select(c => new UsableCertificate(new CertificateCandidate(fixture.Carol.PublicCertificate, "harvested") { Capabilities = c }, [])).ToList(),
        };

    [Fact]
    public void EveryCertificateAdvertisingAes256Gcm_GetsAes256Gcm()
    {
        var crypto = ContentEncryptionChoice.For(CryptoSettings.Default, Choice(Capabilities(Aes256Gcm, Aes256Cbc), Capabilities(Aes128Gcm, Aes256Gcm)));

        Assert.Equal(ContentEncryption.Aes256Gcm, crypto.ContentEncryption);
        Assert.True(crypto.IsAuthenticated);
    }

    [Fact]
    public void OnlyAes128GcmInCommon_GetsAes128Gcm_EvenWhenTheRuleSaysAes256()
    {
        var crypto = ContentEncryptionChoice.For(CryptoSettings.Default, Choice(Capabilities(Aes128Gcm, Aes256Gcm), Capabilities(Aes128Gcm)));

        Assert.Equal(ContentEncryption.Aes128Gcm, crypto.ContentEncryption);
    }

    [Fact]
    public void ACertificateWithoutCapabilities_OrOneListingOnlyCbc_KeepsTheRulesCbc()
    {
        Assert.Equal(ContentEncryption.Aes256Cbc, ContentEncryptionChoice.For(CryptoSettings.Default, Choice(Capabilities(Aes256Gcm), (SmimeCapabilities?)null)).ContentEncryption);
        Assert.Equal(ContentEncryption.Aes256Cbc, ContentEncryptionChoice.For(CryptoSettings.Default, Choice(Capabilities(Aes256Gcm), Capabilities(Aes256Cbc))).ContentEncryption);
        Assert.Equal(ContentEncryption.Aes128Cbc, ContentEncryptionChoice.For(CryptoSettings.Default with { ContentEncryption = ContentEncryption.Aes128Cbc }, Choice(null)).ContentEncryption);
    }

    [Fact]
    public void AClientListingCbcBeforeGcm_KeepsCbc_ItsOrderIsItsPreference()
    {
        var crypto = ContentEncryptionChoice.For(CryptoSettings.Default, Choice(Capabilities("1.2.840.113549.3.7", Aes256Cbc, Aes256Gcm)));

        Assert.Equal(ContentEncryption.Aes256Cbc, crypto.ContentEncryption);
        // Ciphers we never write (3DES here) do not count: the first one we do write decides.
        Assert.Equal(ContentEncryption.Aes256Gcm, ContentEncryptionChoice.For(CryptoSettings.Default, Choice(Capabilities("1.2.840.113549.3.7", Aes256Gcm, Aes256Cbc))).ContentEncryption);
    }

    [Fact]
    public void NeverInTheRule_KeepsCbc_AndAGcmRuleStaysGcmWithoutCapabilities()
    {
        var never = CryptoSettings.Default with { AuthenticatedEncryption = AuthenticatedEncryption.Never };
        Assert.Equal(never, ContentEncryptionChoice.For(never, Choice(Capabilities(Aes256Gcm))));
        var forced = CryptoSettings.Default with { ContentEncryption = ContentEncryption.Aes128Gcm };
        Assert.Equal(forced, ContentEncryptionChoice.For(forced, Choice(null)));
    }

    [Fact]
    public void MalformedCapabilities_AreUnknown_NotAnError()
    {
        Assert.Null(SmimeCapabilities.Parse([0x30, 0x05, 0x06]));
        Assert.Null(SmimeCapabilities.Parse(null));
        Assert.Equal([Aes256Gcm, Aes256Cbc], Capabilities(Aes256Gcm, Aes256Cbc).Algorithms);
    }

    [Fact]
    public void RecipientsOfOneRule_WithAndWithoutGcm_GetSeparateCopies()
    {
        var policy = new RecipientPolicy("x", "r", SignMode.IfPossible, EncryptMode.Required, MissingCertificateAction.Refuse, CryptoSettings.Default);
        var plan = DeliveryPlanner.Plan("rev", null,
        [
            new PlannedRecipient("gcm@partner.test", policy with { Recipient = "gcm@partner.test" }, Choice(Capabilities(Aes256Gcm)), TreatmentKind.Deliver, false, true, "t"),
            new PlannedRecipient("cbc@partner.test", policy with { Recipient = "cbc@partner.test" }, Choice(null), TreatmentKind.Deliver, false, true, "t"),
        ]);

        Assert.Equal(2, plan.Groups.Count);
        Assert.Equal(ContentEncryption.Aes256Gcm, Assert.Single(plan.Groups, g => g.Recipients[0].Address == "gcm@partner.test").Crypto.ContentEncryption);
        Assert.Equal(ContentEncryption.Aes256Cbc, Assert.Single(plan.Groups, g => g.Recipients[0].Address == "cbc@partner.test").Crypto.ContentEncryption);
    }
}
