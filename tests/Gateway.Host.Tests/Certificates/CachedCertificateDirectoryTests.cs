using Gateway.Certificates;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Certificates;

/// <summary>The minute-long memory of certificate choices: an answer is kept only for the address it was given for.</summary>
public sealed class CachedCertificateDirectoryTests
{
    /// <summary>
    /// A certificate is bound to its address whatever the ASCII case of the local part (as every
    /// directory and client compares it), so one choice serves every such spelling: kept apart,
    /// a burst of mail to Bob@ and bob@ built the chain twice. A local part that differs beyond
    /// ASCII case (the Kelvin sign for k) is another address and never gets k's answer.
    /// </summary>
    [Fact]
    public async Task AnswerForOneSpellingOfALocalPart_IsGivenForItsOtherAsciiCases_AndNoOtherAddress()
    {
        var inner = new AnsweringDirectory();
        var directory = new CachedCertificateDirectory(inner, new FakeTimeProvider(DateTimeOffset.UtcNow));

        Assert.Equal("asked for Ken@partner.test", (await directory.FindRecipientAsync("Ken@partner.test", CancellationToken.None)).Reason);
        Assert.Equal("asked for Ken@partner.test", (await directory.FindRecipientAsync("ken@Partner.test", CancellationToken.None)).Reason);
        Assert.Equal("asked for \u212Aen@partner.test", (await directory.FindRecipientAsync("\u212Aen@partner.test", CancellationToken.None)).Reason);
        Assert.Equal(["Ken@partner.test", "\u212Aen@partner.test"], inner.Asked);
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
