using CsCheck;
using Gateway.Tests.Smime;

namespace Gateway.Tests.Robustness;

/// <summary>
/// Property: whatever a client sends, the transformer either returns a copy the recipient can
/// decrypt, or fails with an exception the processor turns into a deferral (and, after repeated
/// failures, a hold) — it never hangs and never takes the process down. 300 generated cases.
/// </summary>
public sealed class MalformedMimePropertyTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    [Fact]
    public void AnyGeneratedMessage_IsSignedAndEncrypted_ToSomethingTheRecipientDecrypts()
    {
        var alice = fixture.Alice.Certificate;
        var bob = fixture.Bob.Certificate;
        var bobPublic = fixture.Bob.PublicCertificate;
        Gen.Int.Sample(seed =>
        {
            var input = MalformedMimeGenerator.Generate(seed);
            var work = Task.Run(() => SmimeTestMessages.Transform(input, alice, [alice], [bobPublic]));
            Assert.True(work.Wait(TimeSpan.FromSeconds(20)), $"seed {seed}: no result within 20 s");
            var (output, result) = work.Result;
            if (!result.Encrypted) return; // passed through as already encrypted by the client: its bytes, unchanged
            Assert.NotEmpty(SmimeTestMessages.Decrypt(output, bob));
        }, iter: 300, threads: 1);
    }
}
