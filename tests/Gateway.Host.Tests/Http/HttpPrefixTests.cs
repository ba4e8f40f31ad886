using Gateway.Http;

namespace Gateway.Tests.Http;

/// <summary>The one rule for both endpoints' prefixes: what the server listens at, and what it refuses (the settings refuse the same at start).</summary>
public sealed class HttpPrefixTests
{
    [Theory]
    [InlineData("http://127.0.0.1:9310/", "127.0.0.1", 9310, "/")]
    [InlineData("HTTP://+:8080/pki/", "+", 8080, "/pki/")]
    [InlineData("http://[::1]:9310/", "::1", 9310, "/")]
    [InlineData("http://[::]:9310/", "::", 9310, "/")]
    [InlineData("http://gateway.example.com:9310/", "gateway.example.com", 9310, "/")]
    // No port is HTTP's own, 80, for both settings (the CRL's took it so before; partners' URLs often have none).
    [InlineData("http://+/pki/", "+", 80, "/pki/")]
    [InlineData("http://[::1]/", "::1", 80, "/")]
    public void Prefix_IsReadAs(string prefix, string host, int port, string path) =>
        Assert.Equal(new HttpPrefix(host, port, path), HttpPrefix.Parse(prefix));

    [Theory]
    [InlineData("127.0.0.1:9310/", "must start with http:// and end with /")]
    [InlineData("https://127.0.0.1:9310/", "must start with http:// and end with /")]
    [InlineData("http://127.0.0.1:9310", "must start with http:// and end with /")]
    [InlineData("http://:9310/", "must name a host")]
    [InlineData("http://user@host:9310/", "must name a host")]
    [InlineData("http://::1:9310/", "IPv6 address in brackets")]
    [InlineData("http://[::1:9310/", "[ADDRESS]:PORT")]
    [InlineData("http://[127.0.0.1]:9310/", "[ADDRESS]:PORT")]
    [InlineData("http://[::1]9310/", "[ADDRESS]:PORT")]
    [InlineData("http://127.0.0.1:0/", "a port from 1 to 65535")]
    [InlineData("http://127.0.0.1:99999/", "a port from 1 to 65535")]
    [InlineData("http://127.0.0.1:/", "a port from 1 to 65535")]
    [InlineData("http://127.0.0.1:+80/", "a port from 1 to 65535")]
    [InlineData("http://127.0.0.1:9310/pki?x/", "must not have ?, # or a space")]
    public void PrefixTheServerCannotListenAt_IsRefused_SayingWhy(string prefix, string expected)
    {
        var refusal = Assert.Throws<FormatException>(() => HttpPrefix.Parse(prefix));
        Assert.Contains(expected, refusal.Message);
        Assert.Contains($"'{prefix}'", refusal.Message);
    }
}
