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
public sealed class ClientNetworks(IOptions<GatewayOptions> options)
{
    private readonly IReadOnlyList<IpNetwork> _networks = options.Value.Smtp.EffectiveAllowedNetworks.Select(IpNetwork.Parse).ToList();
    private readonly IReadOnlyList<IpNetwork> _authNetworks = options.Value.Smtp.Auth.Enabled
        ? options.Value.Smtp.Auth.EffectiveNetworks.Select(IpNetwork.Parse).ToList()
        : [];

    /// <summary>True when the client may relay without authenticating.</summary>
    public bool IsAllowed(IPAddress address) => _networks.Any(n => n.Contains(Normalize(address)));

    /// <summary>True when the client may connect: it may relay, or it may authenticate.</summary>
    public bool CanConnect(IPAddress address) => IsAllowed(address) || _authNetworks.Any(n => n.Contains(Normalize(address)));

    private static IPAddress Normalize(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
