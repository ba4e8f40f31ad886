using Gateway.Policy;

namespace Gateway.Tests.Policy;

public sealed class AddressPatternTests
{
    private static AddressPattern Parse(string text)
    {
        Assert.True(AddressPattern.TryParse(text, out var pattern, out var error), error);
        return pattern!;
    }

    [Theory]
    [InlineData("*", AddressPattern.PatternKind.Any)]
    [InlineData("<>", AddressPattern.PatternKind.NullSender)]
    [InlineData("alice@example.com", AddressPattern.PatternKind.Address)]
    [InlineData("example.com", AddressPattern.PatternKind.Domain)]
    [InlineData("@example.com", AddressPattern.PatternKind.Domain)]
    [InlineData("*.example.com", AddressPattern.PatternKind.Subdomains)]
    [InlineData("  example.com ", AddressPattern.PatternKind.Domain)]
    [InlineData("*@example.com", AddressPattern.PatternKind.Domain)]
    [InlineData("*@*.example.com", AddressPattern.PatternKind.Subdomains)]
    public void TryParse_RecognisesEachKind(string text, AddressPattern.PatternKind kind)
    {
        var pattern = Parse(text);

        Assert.Equal(kind, pattern.Kind);
        Assert.Equal(text, pattern.ToString()); // errors and audit show what the admin wrote
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("user@")]
    [InlineData("user@bad..test")]
    [InlineData("*.")]
    [InlineData("*.-bad.test")]
    [InlineData("a b.test")]
    [InlineData("*example.com")]
    [InlineData("user@*.example.com")]
    [InlineData("bad-.test")]
    public void TryParse_RejectsMalformedPatterns_WithAMessage(string text)
    {
        Assert.False(AddressPattern.TryParse(text, out var pattern, out var error));
        Assert.Null(pattern);
        Assert.False(string.IsNullOrWhiteSpace(error));
    }

    [Theory]
    [InlineData("bob@example.com", true)]
    [InlineData("bob@EXAMPLE.COM", true)]
    [InlineData("<bob@Example.Com>", true)]
    [InlineData("bob@sub.example.com", false)]
    [InlineData("bob@example.com.evil.test", false)]
    [InlineData("bob@notexample.com", false)]
    [InlineData("", false)]
    public void DomainPattern_MatchesThatDomainOnly_IgnoringCase(string address, bool matches)
    {
        Assert.Equal(matches, Parse("Example.com").Matches(address));
    }

    [Theory]
    [InlineData("bob@sub.example.com", true)]
    [InlineData("bob@a.b.EXAMPLE.com", true)]
    [InlineData("bob@example.com", false)]
    [InlineData("bob@badexample.com", false)]
    [InlineData("bob@sub.example.com.evil.test", false)]
    public void SubdomainPattern_MatchesSubdomains_NotTheDomainItself(string address, bool matches)
    {
        Assert.Equal(matches, Parse("*.example.com").Matches(address));
    }

    [Theory]
    [InlineData("alice@example.com", true)]
    [InlineData("Alice@Example.COM", true)]
    [InlineData("<alice@example.com>", true)]
    [InlineData("alice2@example.com", false)]
    [InlineData("bob@example.com", false)]
    [InlineData("alice@sub.example.com", false)]
    public void AddressPattern_MatchesThatMailboxOnly(string address, bool matches)
    {
        Assert.Equal(matches, Parse("alice@example.com").Matches(address));
    }

    [Theory]
    [InlineData("")]
    [InlineData("<>")]
    [InlineData("alice@example.com")]
    [InlineData("postmaster")]
    public void Any_MatchesEveryAddress(string address)
    {
        Assert.True(Parse("*").Matches(address));
    }

    [Theory]
    [InlineData("", true)]
    [InlineData("<>", true)]
    [InlineData(" <> ", true)]
    [InlineData("alice@example.com", false)]
    [InlineData("postmaster", false)]
    public void NullSenderPattern_MatchesOnlyTheNullSender(string address, bool matches)
    {
        Assert.Equal(matches, Parse("<>").Matches(address));
    }

    [Theory]
    [InlineData("bücher.example", "ivan@xn--bcher-kva.example")]
    [InlineData("xn--bcher-kva.example", "ivan@bücher.example")]
    [InlineData("BÜCHER.example", "ivan@bücher.example")]
    [InlineData("*.bücher.example", "ivan@mail.xn--bcher-kva.example")]
    [InlineData("jörg@bücher.example", "jörg@xn--bcher-kva.example")]
    public void ADomainMatches_InEitherIdnForm(string pattern, string address) => Assert.True(Parse(pattern).Matches(address));

    [Theory]
    [InlineData("bücher.example", "ivan@buecher.example")]
    [InlineData("*.bücher.example", "ivan@xn--bcher-kva.example")] // subdomains only
    [InlineData("jörg@bücher.example", "joerg@xn--bcher-kva.example")]
    public void OtherDomainsAndLocalParts_StillDoNotMatch(string pattern, string address) => Assert.False(Parse(pattern).Matches(address));

    [Theory]
    [InlineData("bob@partner.test", true)]
    [InlineData("Bob@PARTNER.test", true)]
    [InlineData("bob@sub.partner.test", false)]
    [InlineData("bob@partner.test.evil.test", false)]
    [InlineData("<>", false)]
    public void StarAtDomain_MatchesExactlyWhatTheDomainPatternMatches(string address, bool matches)
    {
        // The Postfix/Exchange spelling of "every address of the domain"; taken literally it matched nobody.
        Assert.Equal(matches, Parse("*@partner.test").Matches(address));
        Assert.Equal(Parse("partner.test").Matches(address), Parse("*@partner.test").Matches(address));
    }

    [Theory]
    [InlineData("bob*@example.com")]
    [InlineData("*bob@example.com")]
    [InlineData("b*b@example.com")]
    [InlineData("*@*")]
    [InlineData("*@<>")]
    public void AnyOtherStarInTheLocalPart_IsRefused_NamingTheDomainForm(string text)
    {
        Assert.False(AddressPattern.TryParse(text, out _, out var error));
        Assert.Contains("example.com", error);
    }
}
