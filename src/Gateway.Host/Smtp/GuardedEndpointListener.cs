using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Outcomes;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Gateway.Smtp;

/// <summary>
/// Accepts connections for SmtpServer with TCP_NODELAY set (without it every reply waits ~40 ms
/// for a delayed ACK), and refuses clients outside the allowed networks with a 554 5.7.1
/// greeting (RFC 5321 §3.1) before any SMTP state exists for them.
/// </summary>
internal sealed class GuardedEndpointListener(TcpListener listener, ClientNetworks networks, Action<IPEndPoint> onRefused, Action onDispose) : IEndpointListener
{
    private static readonly byte[] Refusal = Encoding.ASCII.GetBytes($"{Failures.Reply(FailureKind.ClientNotAllowed)}\r\n");

    public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken);
            client.NoDelay = true;
            var remote = (IPEndPoint)client.Client.RemoteEndPoint!;
            if (!networks.IsAllowed(remote.Address))
            {
                onRefused(remote);
                _ = RefuseAsync(client);
                continue;
            }
            context.Properties[EndpointListener.LocalEndPointKey] = listener.LocalEndpoint;
            context.Properties[EndpointListener.RemoteEndPointKey] = remote;
            return new NetworkDuplexPipe(client);
        }
    }

    private static async Task RefuseAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await client.GetStream().WriteAsync(Refusal, timeout.Token);
                client.Client.Shutdown(SocketShutdown.Both);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException)
            {
                // The client went away first; nothing more to tell it.
            }
        }
    }

    public void Dispose()
    {
        listener.Stop();
        onDispose();
    }
}
