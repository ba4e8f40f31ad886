using System.Net.Sockets;
using SmtpServer;
using SmtpServer.Net;

namespace Gateway.Smtp;

/// <summary>Creates <see cref="GuardedEndpointListener"/>s and says when each endpoint is listening.</summary>
internal sealed class GuardedEndpointListenerFactory(ListenerGuards guards) : EndpointListenerFactory
{
    public override IEndpointListener CreateListener(IEndpointDefinition endpointDefinition)
    {
        var listener = new TcpListener(endpointDefinition.Endpoint);
        listener.Start(backlog: 512);
        var args = new EndpointEventArgs(endpointDefinition, listener.LocalEndpoint);
        OnEndpointStarted(args);
        return new GuardedEndpointListener(listener, guards, () => OnEndpointStopped(args));
    }
}
