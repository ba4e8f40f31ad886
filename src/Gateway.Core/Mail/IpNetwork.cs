using System.Net;
using System.Net.Sockets;

namespace Gateway.Mail;

/// <summary>A CIDR block such as 127.0.0.0/8 or ::1/128, used for the client allow-list.</summary>
public sealed record IpNetwork(IPAddress Prefix, int PrefixLength)
{
    public static bool TryParse(string text, out IpNetwork? network)
    {
        network = null;
        if (string.IsNullOrWhiteSpace(text)) return false;
        var parts = text.Trim().Split('/');
        if (parts.Length > 2 || !IPAddress.TryParse(parts[0], out var address)) return false;
        var max = address.AddressFamily == AddressFamily.InterNetwork ? 32 : 128;
        var length = max;
        if (parts.Length == 2 && (!int.TryParse(parts[1], out length) || length < 0 || length > max)) return false;
        network = new IpNetwork(address, length);
        return true;
    }

    public static IpNetwork Parse(string text) =>
        TryParse(text, out var network) ? network! : throw new FormatException($"'{text}' is not a CIDR network (e.g. 10.0.0.0/8 or ::1/128)");

    public bool Contains(IPAddress address)
    {
        // An IPv4 client seen on a dual-stack socket arrives as ::ffff:a.b.c.d.
        if (address.IsIPv4MappedToIPv6 && Prefix.AddressFamily == AddressFamily.InterNetwork)
            address = address.MapToIPv4();
        if (address.AddressFamily != Prefix.AddressFamily) return false;
        var a = address.GetAddressBytes();
        var p = Prefix.GetAddressBytes();
        var bits = PrefixLength;
        for (var i = 0; i < a.Length && bits > 0; i++, bits -= 8)
        {
            var mask = bits >= 8 ? 0xFF : (byte)(0xFF << (8 - bits));
            if ((a[i] & mask) != (p[i] & mask)) return false;
        }
        return true;
    }

    public override string ToString() => $"{Prefix}/{PrefixLength}";
}
