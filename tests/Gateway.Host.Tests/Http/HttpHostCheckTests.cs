using Gateway.Http;

namespace Gateway.Tests.Http;

/// <summary>The metrics' Host check against DNS rebinding: IP literals, localhost, the prefix's name and the listed names pass; any other name does not.</summary>
public sealed class HttpHostCheckTests
{
    private static readonly HttpHostCheck Check = new(HttpPrefix.Parse("http://gateway.internal:9310/"), ["metrics.example.com"]);

    [Theory]
    [InlineData("127.0.0.1:9310")]
    [InlineData("192.0.2.7")]
    [InlineData("[::1]:9310")]
    [InlineData("[2001:db8::7]")]
    [InlineData("localhost:9310")]
    [InlineData("LOCALHOST")]
    [InlineData("gateway.internal:9310")]
    [InlineData("metrics.example.com:9310")]
    [InlineData("Metrics.Example.com.")]
    public void Host_IsAllowed(string host) => Assert.True(Check.Allows(new HttpRequestHead("GET", "/metrics", host)));

    [Theory]
    [InlineData("attacker.example:9310")]
    [InlineData("localhost.attacker.example")]
    [InlineData("127.0.0.1.attacker.example")]
    [InlineData("metrics.example.com.attacker.example")]
    [InlineData("::1")]
    [InlineData("[::1")]
    [InlineData("")]
    public void Host_IsNotAllowed(string host) => Assert.False(Check.Allows(new HttpRequestHead("GET", "/metrics", host)));

    [Fact]
    public void RequestWithoutHost_IsAllowed_SinceNoBrowserSendsOne() => Assert.True(Check.Allows(new HttpRequestHead("GET", "/metrics")));

    [Fact]
    public void AbsoluteTarget_IsJudgedByItsAuthority_NotByTheHostHeader()
    {
        Assert.False(Check.Allows(new HttpRequestHead("GET", "http://attacker.example:9310/metrics", "127.0.0.1")));
        Assert.True(Check.Allows(new HttpRequestHead("GET", "http://127.0.0.1:9310/metrics", "attacker.example")));
    }

    [Fact]
    public void PrefixForAllAddresses_AllowsNoNameOfItsOwn() =>
        Assert.False(new HttpHostCheck(HttpPrefix.Parse("http://+:9310/"), []).Allows(new HttpRequestHead("GET", "/metrics", "+")));
}
