using Gateway.Testing;
using Gateway.Tests.Smime;

namespace Gateway.Tests.Robustness;

/// <summary>Every corpus message, including the deeply nested one the listener refuses, signs and encrypts to something Bob can decrypt, or is an envelope the client made, passed on as it came.</summary>
public sealed class CorpusTransformTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    public static TheoryData<string> Names() => new(Corpus.Messages().Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void CorpusMessage_IsSignedAndEncrypted_AndDecryptsForTheRecipient_UnlessTheClientEncryptedIt(string name)
    {
        var input = Corpus.Messages().Single(m => m.Name == name).Message;
        var (output, result) = RunOnAWorkerSizedStack(() => SmimeTestMessages.Transform(input, fixture.Alice.Certificate, [fixture.Alice.Certificate], [fixture.Bob.PublicCertificate]));
        if (!result.Encrypted)
        {
            // Only mail the client really encrypted is passed on as it came: its body must be an envelope.
            Assert.Equal(input, output);
            var envelope = new System.Security.Cryptography.Pkcs.EnvelopedCms();
            envelope.Decode(SmimeTestMessages.Decode(Assert.IsAssignableFrom<MimeKit.MimePart>(SmimeTestMessages.Load(input).Body)));
            return;
        }
        var inner = SmimeTestMessages.Decrypt(output, fixture.Bob.Certificate);
        Assert.NotEmpty(inner);
        SmimeTestMessages.AssertCrlfOnly(output);
    }

    // The worker runs on thread-pool threads (1.5 MiB stacks on Linux); a test thread gets the same, so a
    // nesting that would overflow in production overflows here instead of passing on a bigger stack.
    private static T RunOnAWorkerSizedStack<T>(Func<T> work)
    {
        T result = default!;
        Exception? failure = null;
        var thread = new Thread(() => { try { result = work(); } catch (Exception e) { failure = e; } }, 1536 * 1024);
        thread.Start();
        Assert.True(thread.Join(TimeSpan.FromSeconds(60)), "the transformation did not finish within 60 s");
        if (failure is not null) throw new Xunit.Sdk.XunitException($"transformation failed: {failure}");
        return result;
    }
}
