using Gateway.Certificates;
using Gateway.Pipeline;
using Gateway.Policy;

namespace Gateway.Tests.Pipeline;

/// <summary>Grouping: one copy per distinct treatment, never plaintext and ciphertext in one copy.</summary>
public sealed class DeliveryPlanTests
{
    private static readonly CryptoSettings Strong = new(ContentEncryption.Aes256Cbc, KeyTransport.RsaOaepSha256, SignatureDigest.Sha512);
    private static readonly CryptoSettings Light = new(ContentEncryption.Aes128Cbc, KeyTransport.RsaPkcs1, SignatureDigest.Sha256);

    private static PlannedRecipient Deliver(string address, bool sign, bool encrypt, CryptoSettings? crypto = null) =>
        new(address, new RecipientPolicy(address, "r", SignMode.IfPossible, EncryptMode.IfPossible, MissingCertificateAction.Refuse, crypto ?? CryptoSettings.Default),
            null, TreatmentKind.Deliver, sign, encrypt, "test");

    private static PlannedRecipient NotDelivered(string address, TreatmentKind kind) =>
        new(address, new RecipientPolicy(address, "r", SignMode.Always, EncryptMode.Required, MissingCertificateAction.Refuse, CryptoSettings.Default),
            null, kind, false, false, "test", Gateway.Outcomes.FailureKind.EncryptionCertificateMissing);

    private static string[] Addresses(DeliveryGroup group) => group.Recipients.Select(r => r.Address).ToArray();

    [Fact]
    public void RecipientsWithTheSameTreatment_ShareOneGroup_AndOthersAreSeparated()
    {
        var plan = DeliveryPlanner.Plan("abc123def456", null,
        [
            Deliver("a@x.test", sign: true, encrypt: true),
            Deliver("b@x.test", sign: false, encrypt: false),
            Deliver("c@x.test", sign: true, encrypt: true),
            Deliver("d@x.test", sign: true, encrypt: false),
            Deliver("e@x.test", sign: false, encrypt: true),
        ]);

        Assert.Equal(4, plan.Groups.Count);
        var both = Assert.Single(plan.Groups, g => g is { Sign: true, Encrypt: true });
        Assert.Equal(["a@x.test", "c@x.test"], Addresses(both));
        Assert.Equal(["b@x.test"], Addresses(Assert.Single(plan.Groups, g => g is { Sign: false, Encrypt: false })));
        Assert.Equal(["d@x.test"], Addresses(Assert.Single(plan.Groups, g => g is { Sign: true, Encrypt: false })));
        Assert.Equal(["e@x.test"], Addresses(Assert.Single(plan.Groups, g => g is { Sign: false, Encrypt: true })));
        Assert.Equal([1, 2, 3, 4], plan.Groups.Select(g => g.Number));
        Assert.Equal("abc123def456", plan.PolicyRevision);
    }

    /// <summary>An envelope names a key of every recipient it is encrypted to: a Bcc recipient in a shared one is shown to the others.</summary>
    [Fact]
    public void EncryptedRecipientsTheHeaderDoesNotName_GetACopyEach_TheNamedShareOne_AndPlainCopiesStayShared()
    {
        var plan = DeliveryPlanner.Plan("rev", null,
        [
            Deliver("to@x.test", sign: true, encrypt: true),
            Deliver("Cc@X.test", sign: true, encrypt: true),
            Deliver("bcc1@x.test", sign: true, encrypt: true),
            Deliver("bcc2@x.test", sign: true, encrypt: true),
            Deliver("plain@x.test", sign: true, encrypt: false),
            Deliver("plain-bcc@x.test", sign: true, encrypt: false),
        ], named: new HashSet<string> { "to@x.test", "cc@x.test", "plain@x.test" });

        Assert.Equal(4, plan.Groups.Count);
        Assert.Equal(["to@x.test", "Cc@X.test"], Addresses(plan.Groups[0]));
        Assert.Equal(["bcc1@x.test"], Addresses(plan.Groups[1]));
        Assert.Equal(["bcc2@x.test"], Addresses(plan.Groups[2]));
        Assert.Equal(["plain@x.test", "plain-bcc@x.test"], Addresses(Assert.Single(plan.Groups, g => !g.Encrypt)));
    }

    [Fact]
    public void EncryptedRecipients_WithDifferentCrypto_GetSeparateCopies()
    {
        var plan = DeliveryPlanner.Plan("rev", null,
        [
            Deliver("a@x.test", sign: false, encrypt: true, Strong),
            Deliver("b@x.test", sign: false, encrypt: true, Light),
            Deliver("c@x.test", sign: false, encrypt: true, Strong),
        ]);

        Assert.Equal(2, plan.Groups.Count);
        Assert.Equal(["a@x.test", "c@x.test"], Addresses(Assert.Single(plan.Groups, g => g.Crypto == Strong)));
        Assert.Equal(["b@x.test"], Addresses(Assert.Single(plan.Groups, g => g.Crypto == Light)));
    }

    [Fact]
    public void UnchangedRecipients_ShareOneCopy_WhateverTheirCryptoSettings()
    {
        var plan = DeliveryPlanner.Plan("rev", null,
        [
            Deliver("a@x.test", sign: false, encrypt: false, Strong),
            Deliver("b@x.test", sign: false, encrypt: false, Light),
        ]);

        var group = Assert.Single(plan.Groups);
        Assert.Equal(["a@x.test", "b@x.test"], Addresses(group));
        Assert.Equal(CryptoSettings.Default, group.Crypto);
        Assert.Equal("unchanged", group.Describe());
    }

    [Fact]
    public void RefusedAndHeldRecipients_NeverAppearInAnyGroup()
    {
        var plan = DeliveryPlanner.Plan("rev", null,
        [
            Deliver("a@x.test", sign: false, encrypt: false),
            NotDelivered("refused@x.test", TreatmentKind.Refuse),
            NotDelivered("held@x.test", TreatmentKind.Hold),
            Deliver("b@x.test", sign: false, encrypt: true),
        ]);

        var grouped = plan.Groups.SelectMany(Addresses).ToList();
        Assert.DoesNotContain("refused@x.test", grouped);
        Assert.DoesNotContain("held@x.test", grouped);
        Assert.Equal(["a@x.test", "b@x.test"], grouped.Order());
        Assert.Equal(["refused@x.test"], plan.Refused.Select(r => r.Address));
        Assert.Equal(["held@x.test"], plan.Held.Select(r => r.Address));
    }

    [Fact]
    public void OnlyRefusedRecipients_GiveNoGroups()
    {
        var plan = DeliveryPlanner.Plan("rev", null, [NotDelivered("r1@x.test", TreatmentKind.Refuse), NotDelivered("r2@x.test", TreatmentKind.Refuse)]);

        Assert.Empty(plan.Groups);
        Assert.Equal(2, plan.Refused.Count);
        Assert.Empty(plan.Held);
    }

    [Fact]
    public void Plan_CarriesTheSignerChoice()
    {
        var signer = new CertificateChoice(null, [], "no signing certificate known for a@x.test", []);

        Assert.Same(signer, DeliveryPlanner.Plan("rev", signer, []).Signer);
    }

    [Theory]
    [InlineData(true, true, "signed+encrypted")]
    [InlineData(false, true, "encrypted")]
    [InlineData(true, false, "signed")]
    [InlineData(false, false, "unchanged")]
    public void Group_DescribesItsTreatment(bool sign, bool encrypt, string description)
    {
        Assert.Equal(description, new DeliveryGroup(1, sign, encrypt, CryptoSettings.Default, []).Describe());
    }
}
