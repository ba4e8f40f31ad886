using Gateway.Certificates;
using Gateway.Pipeline;
using Gateway.Policy;
using Gateway.Smime;
using Gateway.Testing.Pki;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// Fail closed when a recipient certificate expires between the decision and the send: the
/// transformer checks validity again against the same clock and refuses to make the copy, so
/// the processor defers and plans again (where the expired certificate is rejected).
/// </summary>
public sealed class CertificateExpiryRaceTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    [Fact]
    public void CertificateExpiringAfterTheDecision_StopsTheCopy_AndNothingIsWritten()
    {
        var clock = PkiFixture.Clock();
        using var shortLived = fixture.Pki.Issue("dan@partner.test", new CertificateOptions { NotAfter = clock.GetUtcNow().AddMinutes(5) });
        var policy = new RecipientPolicy("dan@partner.test", "partners", SignMode.Never, EncryptMode.Required, MissingCertificateAction.Refuse, CryptoSettings.Default);
        var choice = new CertificateChoice(new CertificateCandidate(shortLived.PublicCertificate, "local:dan.crt"), [shortLived.PublicCertificate], "only usable certificate", []);

        var planned = DeliveryPlanner.Decide(policy, null, choice, "alice@example.test");
        Assert.True(planned.Encrypt);

        clock.Advance(TimeSpan.FromMinutes(6));
        using var original = new MemoryStream(Serialise(Build()), writable: false);
        using var output = new MemoryStream();
        var request = new SmimeRequest(null, [], [planned.Certificate!.Selected!.Certificate], planned.Policy.Crypto);

        var error = Assert.Throws<CertificateNoLongerValidException>(() => SmimeTransformer.Transform(original, request, output, clock.GetUtcNow(), CancellationToken.None));

        Assert.Equal(shortLived.Certificate.Thumbprint, error.Thumbprint);
        Assert.Equal(0, output.Length);
    }

    [Fact]
    public void CertificateStillValidAtSend_IsUsed()
    {
        var clock = PkiFixture.Clock();
        using var shortLived = fixture.Pki.Issue("dan@partner.test", new CertificateOptions { NotAfter = clock.GetUtcNow().AddMinutes(5) });
        clock.Advance(TimeSpan.FromMinutes(4));
        using var original = new MemoryStream(Serialise(Build()), writable: false);
        using var output = new MemoryStream();

        var result = SmimeTransformer.Transform(original, new SmimeRequest(null, [], [shortLived.PublicCertificate], CryptoSettings.Default), output, clock.GetUtcNow(), CancellationToken.None);

        Assert.True(result.Encrypted);
    }
}
