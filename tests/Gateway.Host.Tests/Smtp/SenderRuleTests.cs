using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

/// <summary>Smtp:SenderDomains and Smtp:AllowedSenders hold for a domain in either IDN form.</summary>
public sealed class SenderRuleTests
{
    [Theory]
    [InlineData("anna@bücher.example", true)]
    [InlineData("anna@xn--bcher-kva.example", true)]
    [InlineData("anna@BÜCHER.example", true)]
    [InlineData("anna@buecher.example", false)]
    [InlineData("jörg@xn--mller-kva.example", true)] // an exception written in Unicode
    [InlineData("other@müller.example", false)]
    [InlineData("", true)] // the null sender
    public void ADomainCountsInEitherIdnForm(string address, bool allowed) =>
        Assert.Equal(allowed, new SenderRule(["bücher.example"], ["jörg@müller.example"]).Allows(address));

    /// <summary>The policy's spelling of a whole domain; it was kept as a literal address that matched nobody.</summary>
    [Theory]
    [InlineData("anyone@partner.test", true)]
    [InlineData("anyone@other.test", false)]
    public void StarAtDomainException_AllowsThatDomain(string address, bool allowed) =>
        Assert.Equal(allowed, new SenderRule(["example.test"], ["*@partner.test"]).Allows(address));
}
