using Gateway.Certificates;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Certificates;

/// <summary>The minute-long memory of certificate choices: an answer is kept only for the address it was given for.</summary>
public sealed class CachedCertificateDirectoryTests
{
    /// <summary>
    /// The choices were kept under the address in lower case, while a certificate is valid for its
    /// local part as written: "none" for Bob@ was then the answer for bob@ for a minute (mail to a
    /// recipient whose certificate is known refused under "required", sent in clear under "ifPossible").
    /// </summary>
    [Fact]
    public async Task AnswerForOneSpellingOfALocalPart_IsNotGivenForAnother()
    {
        var inner = new AnsweringDirectory();
        var directory = new CachedCertificateDirectory(inner, new FakeTimeProvider(DateTimeOffset.UtcNow));

        Assert.False((await directory.FindRecipientAsync("Bob@partner.test", CancellationToken.None)).Found);
        Assert.Equal("asked for bob@partner.test", (await directory.FindRecipientAsync("bob@partner.test", CancellationToken.None)).Reason);
        Assert.Equal("asked for bob@partner.test", (await directory.FindRecipientAsync("bob@partner.test", CancellationToken.None)).Reason);
        Assert.Equal(["Bob@partner.test", "bob@partner.test"], inner.Asked);
    }

    /// <summary>The addresses asked for are the world's: choices that expired are dropped, not kept for ever.</summary>
    [Fact]
    public async Task ExpiredChoices_AreDropped_AsNewOnesAreKept()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        var directory = new CachedCertificateDirectory(new AnsweringDirectory(), time);
        for (var n = 0; n < 1500; n++) await directory.FindRecipientAsync($"r{n}@partner.test", CancellationToken.None);
        Assert.Equal(1500, directory.Count);

        time.Advance(TimeSpan.FromMinutes(2));
        for (var n = 0; n < 600; n++) await directory.FindRecipientAsync($"s{n}@partner.test", CancellationToken.None);

        Assert.InRange(directory.Count, 1, 600);
    }

    private sealed class AnsweringDirectory : ICertificateDirectory
    {
        public List<string> Asked { get; } = [];

        public ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();

        public ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken)
        {
            Asked.Add(address);
            return ValueTask.FromResult(new CertificateChoice(null, [], $"asked for {address}", []));
        }
    }
}
