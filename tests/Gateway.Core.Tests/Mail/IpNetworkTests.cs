using System.Net;
using Gateway.Mail;

namespace Gateway.Tests.Mail;

public sealed class IpNetworkTests
{
    private static bool Contains(string network, string address) => IpNetwork.Parse(network).Contains(IPAddress.Parse(address));

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.1", true)]
    [InlineData("10.0.0.0/8", "10.255.255.255", true)]
    [InlineData("10.0.0.0/8", "11.0.0.0", false)]
    [InlineData("10.0.0.0/8", "9.255.255.255", false)]
    [InlineData("192.168.1.0/24", "192.168.1.200", true)]
    [InlineData("192.168.1.0/24", "192.168.2.1", false)]
    [InlineData("172.16.0.0/12", "172.31.255.1", true)]
    [InlineData("172.16.0.0/12", "172.32.0.1", false)]
    [InlineData("192.168.1.128/25", "192.168.1.127", false)]
    [InlineData("192.168.1.128/25", "192.168.1.128", true)]
    [InlineData("192.168.1.5/24", "192.168.1.77", true)] // host bits in the prefix are ignored
    public void Ipv4_Cidr_ContainsOnlyAddressesInsideTheBlock(string network, string address, bool expected)
    {
        Assert.Equal(expected, Contains(network, address));
    }

    [Theory]
    [InlineData("203.0.113.7/32", "203.0.113.7", true)]
    [InlineData("203.0.113.7/32", "203.0.113.6", false)]
    [InlineData("203.0.113.7", "203.0.113.7", true)]
    [InlineData("203.0.113.7", "203.0.113.8", false)]
    public void Slash32_AndBareAddress_MatchExactlyOneHost(string network, string address, bool expected)
    {
        Assert.Equal(expected, Contains(network, address));
    }

    [Theory]
    [InlineData("0.0.0.0/0", "1.2.3.4", true)]
    [InlineData("0.0.0.0/0", "255.255.255.255", true)]
    [InlineData("::/0", "2001:db8::1", true)]
    [InlineData("0.0.0.0/0", "2001:db8::1", false)]
    [InlineData("::/0", "1.2.3.4", false)]
    public void SlashZero_ContainsEveryAddressOfItsFamilyOnly(string network, string address, bool expected)
    {
        Assert.Equal(expected, Contains(network, address));
    }

    [Theory]
    [InlineData("::1/128", "::1", true)]
    [InlineData("::1", "::1", true)]
    [InlineData("::1/128", "::2", false)]
    [InlineData("2001:db8::/32", "2001:db8:ffff::1", true)]
    [InlineData("2001:db8::/32", "2001:db9::1", false)]
    [InlineData("fe80::/10", "febf::1", true)]
    [InlineData("fe80::/10", "fec0::1", false)]
    [InlineData("2001:db8:0:1::/63", "2001:db8:0:0::1", true)]
    [InlineData("2001:db8:0:1::/63", "2001:db8:0:2::1", false)]
    public void Ipv6_Cidr_ContainsOnlyAddressesInsideTheBlock(string network, string address, bool expected)
    {
        Assert.Equal(expected, Contains(network, address));
    }

    [Theory]
    [InlineData("127.0.0.0/8", "::ffff:127.0.0.1", true)]
    [InlineData("10.1.0.0/16", "::ffff:10.1.2.3", true)]
    [InlineData("10.1.0.0/16", "::ffff:10.2.2.3", false)]
    [InlineData("203.0.113.7/32", "::ffff:203.0.113.7", true)]
    public void Ipv4Network_MatchesIpv4MappedIpv6Clients(string network, string address, bool expected)
    {
        Assert.Equal(expected, Contains(network, address));
    }

    [Fact]
    public void Ipv6LoopbackNetwork_DoesNotMatchIpv4Loopback()
    {
        Assert.False(Contains("::1/128", "127.0.0.1"));
        Assert.False(Contains("::1/128", "::ffff:127.0.0.1"));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    [InlineData("10.0.0.0/33")]
    [InlineData("10.0.0.0/-1")]
    [InlineData("10.0.0.0/")]
    [InlineData("10.0.0.0/8/8")]
    [InlineData("10.0.0.0/abc")]
    [InlineData("::1/129")]
    [InlineData("not-an-ip/8")]
    [InlineData("300.0.0.1/8")]
    [InlineData("example.com")]
    public void InvalidInput_IsRejected(string text)
    {
        Assert.False(IpNetwork.TryParse(text, out var network));
        Assert.Null(network);
        var error = Assert.Throws<FormatException>(() => IpNetwork.Parse(text));
        Assert.Contains("CIDR", error.Message);
    }

    [Theory]
    [InlineData("10.0.0.0/8", "10.0.0.0", 8)]
    [InlineData(" 192.168.0.0/16 ", "192.168.0.0", 16)]
    [InlineData("::1", "::1", 128)]
    [InlineData("1.2.3.4", "1.2.3.4", 32)]
    public void Parse_ReadsPrefixAndLength(string text, string prefix, int length)
    {
        var network = IpNetwork.Parse(text);

        Assert.Equal(IPAddress.Parse(prefix), network.Prefix);
        Assert.Equal(length, network.PrefixLength);
        Assert.Equal($"{prefix}/{length}", network.ToString());
    }
}
