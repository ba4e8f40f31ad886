using System.Net;
using Gateway.Configuration;
using Gateway.Mail;
using Microsoft.Extensions.Options;

namespace Gateway.Smtp;

/// <summary>The networks allowed to relay through us. Anyone else is refused before the greeting.</summary>
public sealed class ClientNetworks(IOptions<GatewayOptions> options)
{
    private readonly IReadOnlyList<IpNetwork> _networks = options.Value.Smtp.EffectiveAllowedNetworks.Select(IpNetwork.Parse).ToList();

    public bool IsAllowed(IPAddress address) => _networks.Any(n => n.Contains(address));
}
