using System.Net;
using System.Net.Sockets;

namespace Gateway.Http;

/// <summary>
/// Who a connection counts against in <see cref="HttpLimits.MaxConnectionsPerClient"/>. An IPv6
/// client is its /64: a host is routinely given a whole /64 (SLAAC, privacy addresses), so counted
/// by its full address it would have 2^64 allowances of 8. An IPv4-mapped address is its IPv4 address
/// (a dual-mode listener sees IPv4 clients so).
/// </summary>
internal static class HttpClientKey
{
    public static IPAddress Of(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6) return address.MapToIPv4();
        if (address.AddressFamily != AddressFamily.InterNetworkV6) return address;
        var bytes = address.GetAddressBytes();
        Array.Clear(bytes, 8, 8);
        return new IPAddress(bytes); // without the scope id, which the /64 does not depend on
    }
}
