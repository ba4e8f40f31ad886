using Gateway.Certificates;
using Gateway.Outcomes;
using Gateway.Pipeline;
using Gateway.Policy;

namespace Gateway.Tests.Pipeline;

public sealed class DeliveryPlannerTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string Sender = "alice@example.test";

    private CertificateChoice Signer => Found(fixture.Alice.Certificate, "local:alice.p12");
    private static CertificateChoice NoSigner => new(null, [], $"no signing certificate known for {Sender}", []);

    private static CertificateChoice Found(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate, string source) =>
        new(new CertificateCandidate(certificate, source), [certificate], $"only usable certificate (from {source})", []);

    private static CertificateChoice NotFound(string address) => new(null, [], $"no encryption certificate known for {address}", []);

    private CertificateChoice BobCertificate => Found(fixture.Bob.PublicCertificate, "local:bob.crt");

    private static RecipientPolicy Policy(string recipient, SignMode sign, EncryptMode encrypt,
        MissingCertificateAction missing = MissingCertificateAction.Refuse, CryptoSettings? crypto = null, string rule = "r") =>
        new(recipient, rule, sign, encrypt, missing, crypto ?? CryptoSettings.Default);

    [Theory]
    [InlineData(MissingCertificateAction.Refuse, TreatmentKind.Refuse)]
    [InlineData(MissingCertificateAction.Hold, TreatmentKind.Hold)]
    public void RequiredEncryption_WithoutCertificate_FollowsTheMissingCertificateAction(MissingCertificateAction missing, TreatmentKind kind)
    {
        var policy = Policy("dan@partner.test", SignMode.IfPossible, EncryptMode.Required, missing, rule: "partners");

        var planned = DeliveryPlanner.Decide(policy, Signer, NotFound("dan@partner.test"), Sender);

        Assert.Equal(kind, planned.Kind);
        Assert.Equal(FailureKind.EncryptionCertificateMissing, planned.Failure);
        Assert.False(planned.Encrypt);
        Assert.False(planned.Sign);
        Assert.Contains("'partners'", planned.Reason);
        Assert.Contains("no encryption certificate known for dan@partner.test", planned.Reason);
    }

    [Fact]
    public void RequiredEncryption_WhenNoLookupWasMade_IsRefused()
    {
        var planned = DeliveryPlanner.Decide(Policy("dan@partner.test", SignMode.Never, EncryptMode.Required), null, null, Sender);

        Assert.Equal(TreatmentKind.Refuse, planned.Kind);
        Assert.Equal(FailureKind.EncryptionCertificateMissing, planned.Failure);
    }

    [Fact]
    public void RequiredEncryption_WithCertificate_IsDeliveredEncrypted()
    {
        var planned = DeliveryPlanner.Decide(Policy("bob@partner.test", SignMode.Never, EncryptMode.Required), null, BobCertificate, Sender);

        Assert.Equal(TreatmentKind.Deliver, planned.Kind);
        Assert.True(planned.Encrypt);
        Assert.Null(planned.Failure);
        Assert.Contains(fixture.Bob.Certificate.Thumbprint, planned.Reason);
        Assert.Contains("only usable certificate (from local:bob.crt)", planned.Reason);
    }

    [Fact]
    public void IfPossibleEncryption_WithoutCertificate_IsDeliveredUnencrypted()
    {
        var planned = DeliveryPlanner.Decide(Policy("dan@other.test", SignMode.Never, EncryptMode.IfPossible), null, NotFound("dan@other.test"), Sender);

        Assert.Equal(TreatmentKind.Deliver, planned.Kind);
        Assert.False(planned.Encrypt);
        Assert.Null(planned.Failure);
        Assert.Contains("sent without encryption", planned.Reason);
    }

    [Fact]
    public void IfPossibleEncryption_WithCertificate_IsEncrypted()
    {
        var planned = DeliveryPlanner.Decide(Policy("bob@partner.test", SignMode.Never, EncryptMode.IfPossible), null, BobCertificate, Sender);

        Assert.True(planned.Encrypt);
    }

    [Fact]
    public void NeverEncrypt_IsNeverEncrypted_EvenWithACertificate()
    {
        var planned = DeliveryPlanner.Decide(Policy("bob@partner.test", SignMode.Never, EncryptMode.Never), null, BobCertificate, Sender);

        Assert.Equal(TreatmentKind.Deliver, planned.Kind);
        Assert.False(planned.Encrypt);
        Assert.Contains("encryption not wanted", planned.Reason);
    }

    [Theory]
    [InlineData(MissingCertificateAction.Refuse, TreatmentKind.Refuse)]
    [InlineData(MissingCertificateAction.Hold, TreatmentKind.Hold)]
    public void AlwaysSign_WithoutSigner_FollowsTheMissingCertificateAction(MissingCertificateAction missing, TreatmentKind kind)
    {
        var policy = Policy("bob@partner.test", SignMode.Always, EncryptMode.IfPossible, missing, rule: "sign-all");

        var planned = DeliveryPlanner.Decide(policy, NoSigner, BobCertificate, Sender);

        Assert.Equal(kind, planned.Kind);
        Assert.Equal(FailureKind.SigningIdentityMissing, planned.Failure);
        Assert.False(planned.Sign);
        Assert.False(planned.Encrypt);
        Assert.Contains("'sign-all'", planned.Reason);
    }

    [Fact]
    public void AlwaysSign_WithoutAnySignerLookup_NamesTheSender()
    {
        var planned = DeliveryPlanner.Decide(Policy("bob@partner.test", SignMode.Always, EncryptMode.Never), null, null, Sender);

        Assert.Equal(FailureKind.SigningIdentityMissing, planned.Failure);
        Assert.Contains(Sender, planned.Reason);
    }

    [Fact]
    public void AlwaysSign_ForTheNullSender_DoesNotApply_TheMessageGoesUnsigned()
    {
        // Nobody's key signs for <>: a bounce under a sign-always default must still go out.
        var planned = DeliveryPlanner.Decide(Policy("alice@example.test", SignMode.Always, EncryptMode.IfPossible, rule: "corp-signs"), null, NotFound("alice@example.test"), "");

        Assert.Equal(TreatmentKind.Deliver, planned.Kind);
        Assert.Null(planned.Failure);
        Assert.False(planned.Sign);
        Assert.Contains("null sender", planned.Reason);
    }

    [Fact]
    public void RequiredEncryption_ForTheNullSender_StillApplies()
    {
        var planned = DeliveryPlanner.Decide(Policy("dan@partner.test", SignMode.Always, EncryptMode.Required), null, NotFound("dan@partner.test"), "");

        Assert.Equal(TreatmentKind.Refuse, planned.Kind);
        Assert.Equal(FailureKind.EncryptionCertificateMissing, planned.Failure);
    }

    [Fact]
    public void MissingEncryptionCertificate_IsReportedBeforeMissingSigner()
    {
        var planned = DeliveryPlanner.Decide(Policy("dan@partner.test", SignMode.Always, EncryptMode.Required), NoSigner, NotFound("dan@partner.test"), Sender);

        Assert.Equal(FailureKind.EncryptionCertificateMissing, planned.Failure);
    }

    [Theory]
    [InlineData(SignMode.Always, true, true)]
    [InlineData(SignMode.IfPossible, true, true)]
    [InlineData(SignMode.IfPossible, false, false)]
    [InlineData(SignMode.Never, true, false)]
    public void SignFlag_FollowsModeAndSignerAvailability(SignMode mode, bool signerFound, bool signed)
    {
        var planned = DeliveryPlanner.Decide(Policy("x@y.test", mode, EncryptMode.Never), signerFound ? Signer : NoSigner, null, Sender);

        Assert.Equal(TreatmentKind.Deliver, planned.Kind);
        Assert.Equal(signed, planned.Sign);
    }

    [Fact]
    public void PlannedRecipient_KeepsItsPolicyAndCertificateChoice()
    {
        var policy = Policy("bob@partner.test", SignMode.Always, EncryptMode.Required);
        var certificate = BobCertificate;

        var planned = DeliveryPlanner.Decide(policy, Signer, certificate, Sender);

        Assert.Equal("bob@partner.test", planned.Address);
        Assert.Same(policy, planned.Policy);
        Assert.Same(certificate, planned.Certificate);
    }
}
