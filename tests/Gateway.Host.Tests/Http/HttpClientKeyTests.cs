using System.Net;
using Gateway.Http;

namespace Gateway.Tests.Http;

/// <summary>Who a connection counts against in the per-client cap: an IPv6 client by its /64, an IPv4-mapped one by its IPv4 address.</summary>
public sealed class HttpClientKeyTests
{
    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:2:ffff:ffff:ffff:ffff")]
    [InlineData("2001:db8:1:2:a:b:c:d", "2001:db8:1:2::")]
    [InlineData("fe80::1%1", "fe80::2")]
    [InlineData("::ffff:192.0.2.1", "192.0.2.1")]
    public void AddressesOfOneClient_CountAsOne(string one, string other) =>
        Assert.Equal(HttpClientKey.Of(IPAddress.Parse(one)), HttpClientKey.Of(IPAddress.Parse(other)));

    [Theory]
    [InlineData("2001:db8:1:2::1", "2001:db8:1:3::1")]
    [InlineData("192.0.2.1", "192.0.2.2")]
    [InlineData("::ffff:192.0.2.1", "::ffff:192.0.2.2")]
    public void AddressesOfDifferentClients_CountApart(string one, string other) =>
        Assert.NotEqual(HttpClientKey.Of(IPAddress.Parse(one)), HttpClientKey.Of(IPAddress.Parse(other)));
}
