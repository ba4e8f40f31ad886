using Gateway.Certificates;
using Gateway.Outcomes;
using Gateway.Pipeline;
using Gateway.Policy;

namespace Gateway.Tests.Pipeline;

public sealed class DeliveryPlannerLookupFailureTests
{
    private const string Sender = "alice@example.test";
    private const string Recipient = "dan@partner.test";

    private static CertificateChoice DirectoryDown => new(null, [], $"no encryption certificate known for {Recipient}; not asked: ldap:corp: LDAP server unavailable", [])
    {
        TemporaryFailure = "ldap:corp: LDAP server unavailable",
    };

    private static RecipientPolicy Policy(EncryptMode encrypt, MissingCertificateAction missing = MissingCertificateAction.Refuse) =>
        new(Recipient, "partners", SignMode.Never, encrypt, missing, CryptoSettings.Default);

    [Theory]
    [InlineData(EncryptMode.Required)]
    [InlineData(EncryptMode.IfPossible)]
    public void DirectoryUnavailable_WithinTheGrace_DefersTheRecipient_NeverPlaintextNorRefusal(EncryptMode encrypt)
    {
        var planned = DeliveryPlanner.Decide(Policy(encrypt), null, DirectoryDown, Sender, lookupGraceOver: false);

        Assert.Equal(TreatmentKind.Defer, planned.Kind);
        Assert.Equal(FailureKind.CertificateDirectoryUnavailable, planned.Failure);
        Assert.False(planned.Encrypt);
        Assert.Contains("ldap:corp: LDAP server unavailable", planned.Reason);
        Assert.Equal("451 4.4.3 certificate directory unavailable", Failures.Reply(planned.Failure!.Value).ToString());
        Assert.Equal(AfterQueueAction.Defer, Failures.Action(planned.Failure.Value));
    }

    [Theory]
    [InlineData(MissingCertificateAction.Refuse, TreatmentKind.Refuse)]
    [InlineData(MissingCertificateAction.Hold, TreatmentKind.Hold)]
    public void DirectoryUnavailable_PastTheGrace_RequiredFollowsTheMissingCertificateAction(MissingCertificateAction missing, TreatmentKind kind)
    {
        var planned = DeliveryPlanner.Decide(Policy(EncryptMode.Required, missing), null, DirectoryDown, Sender, lookupGraceOver: true);

        Assert.Equal(kind, planned.Kind);
        Assert.Equal(FailureKind.EncryptionCertificateMissing, planned.Failure);
        Assert.Contains("unavailable past the lookup grace", planned.Reason);
    }

    [Fact]
    public void DirectoryUnavailable_PastTheGrace_IfPossibleGoesOnWithoutEncryption_AndSaysWhy()
    {
        var planned = DeliveryPlanner.Decide(Policy(EncryptMode.IfPossible), null, DirectoryDown, Sender, lookupGraceOver: true);

        Assert.Equal(TreatmentKind.Deliver, planned.Kind);
        Assert.False(planned.Encrypt);
        Assert.Contains("unavailable past the lookup grace", planned.Reason);
        Assert.Contains("ldap:corp", planned.Reason);
    }

    private static CertificateChoice EligibilityUnknown => new(null, [], $"no signing identity for {Sender}; enrolment: group membership unknown", [])
    {
        TemporaryFailure = "ldap:corp: LDAP server unavailable (group membership unknown)",
    };

    [Theory]
    [InlineData(SignMode.Always)]
    [InlineData(SignMode.IfPossible)]
    public void SigningIdentityUnavailable_WithinTheGrace_DefersTheRecipient_NeitherUnsignedNorRefused(SignMode sign)
    {
        var policy = new RecipientPolicy(Recipient, "sign-all", sign, EncryptMode.Never, MissingCertificateAction.Refuse, CryptoSettings.Default);

        var planned = DeliveryPlanner.Decide(policy, EligibilityUnknown, null, Sender, lookupGraceOver: false);

        Assert.Equal(TreatmentKind.Defer, planned.Kind);
        Assert.Equal(FailureKind.CertificateDirectoryUnavailable, planned.Failure);
        Assert.Contains("signing identity lookup deferred", planned.Reason);
    }

    [Theory]
    [InlineData(SignMode.Always, TreatmentKind.Refuse, false)]
    [InlineData(SignMode.IfPossible, TreatmentKind.Deliver, false)]
    public void SigningIdentityUnavailable_PastTheGrace_FollowsTheRule(SignMode sign, TreatmentKind kind, bool signed)
    {
        var policy = new RecipientPolicy(Recipient, "sign-all", sign, EncryptMode.Never, MissingCertificateAction.Refuse, CryptoSettings.Default);

        var planned = DeliveryPlanner.Decide(policy, EligibilityUnknown, null, Sender, lookupGraceOver: true);

        Assert.Equal(kind, planned.Kind);
        Assert.Equal(signed, planned.Sign);
        if (kind == TreatmentKind.Refuse) Assert.Contains("unavailable past the lookup grace", planned.Reason);
    }

    [Fact]
    public void EncryptionRequiredWithoutCertificate_IsRefusedAtOnce_EvenWhileTheSignerCannotBeLookedUp()
    {
        var policy = new RecipientPolicy(Recipient, "partners", SignMode.Always, EncryptMode.Required, MissingCertificateAction.Refuse, CryptoSettings.Default);
        var noCertificate = new CertificateChoice(null, [], $"no encryption certificate known for {Recipient}", []);

        var planned = DeliveryPlanner.Decide(policy, EligibilityUnknown, noCertificate, Sender, lookupGraceOver: false);

        Assert.Equal(TreatmentKind.Refuse, planned.Kind);
        Assert.Equal(FailureKind.EncryptionCertificateMissing, planned.Failure);
    }

    [Fact]
    public void DeferredRecipients_AreNeitherRelayedNorRefused_InThePlan()
    {
        var deferred = DeliveryPlanner.Decide(Policy(EncryptMode.Required), null, DirectoryDown, Sender);

        var plan = DeliveryPlanner.Plan("rev", null, [deferred]);

        Assert.Empty(plan.Groups);
        Assert.Empty(plan.Refused);
        Assert.Empty(plan.Held);
        Assert.Equal([Recipient], plan.Deferred.Select(d => d.Address));
    }
}
