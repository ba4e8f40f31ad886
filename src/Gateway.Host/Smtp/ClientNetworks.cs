using System.Net;
using Gateway.Configuration;
using Gateway.Mail;
using Microsoft.Extensions.Options;

namespace Gateway.Smtp;

/// <summary>
/// Who may talk to us. Clients in AllowedNetworks may relay without more. When AUTH is configured,
/// clients in Auth:Networks may connect too, but may send only after authenticating over TLS
/// (<see cref="EnvelopeFilter"/>). Anyone else is refused before the greeting.
/// </summary>
public sealed class ClientNetworks
{
    private readonly IReadOnlyList<IpNetwork> _networks;
    private readonly IReadOnlyList<IpNetwork> _authNetworks;

    public ClientNetworks(IOptions<GatewayOptions> options)
        : this(options.Value.Smtp.EffectiveAllowedNetworks, options.Value.Smtp.Auth.Enabled ? options.Value.Smtp.Auth.EffectiveNetworks : [])
    {
    }

    // Private, and reached through For(): DI would otherwise pick this longer constructor and
    // satisfy both lists with empty ones.
    private ClientNetworks(IEnumerable<string> allowed, IEnumerable<string> authenticating)
    {
        _networks = allowed.Select(IpNetwork.Parse).ToList();
        _authNetworks = authenticating.Select(IpNetwork.Parse).ToList();
    }

    /// <summary>An allow-list without AUTH networks, for a listener with its own settings (the inbound endpoint).</summary>
    public static ClientNetworks For(IEnumerable<string> allowed) => new(allowed, []);

    /// <summary>True when the client may relay without authenticating.</summary>
    public bool IsAllowed(IPAddress address) => _networks.Any(n => n.Contains(Normalize(address)));

    /// <summary>True when the client may connect: it may relay, or it may authenticate.</summary>
    public bool CanConnect(IPAddress address) => IsAllowed(address) || _authNetworks.Any(n => n.Contains(Normalize(address)));

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
