using System.Net;
using System.Net.Sockets;
using System.Text;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;

namespace Gateway.Smtp;

/// <summary>
/// Accepts connections for SmtpServer with TCP_NODELAY set (without it every reply waits ~40 ms
/// for a delayed ACK). Before any SMTP state exists, it refuses clients outside the allowed
/// networks with a 554 5.7.1 greeting (RFC 5321 §3.1), and clients that already have too many
/// connections open with a 421 4.7.0.
/// </summary>
internal sealed class GuardedEndpointListener(TcpListener listener, ListenerGuards guards, Action onDispose) : IEndpointListener
{
    /// <summary>Session property: true when the client's network may relay without AUTH.</summary>
    public const string TrustedNetworkKey = "Gateway:TrustedNetwork";

    /// <summary>Whether the session's client is in a network that may relay without AUTH.</summary>
    public static bool IsTrusted(ISessionContext context) =>
        context.Properties.TryGetValue(TrustedNetworkKey, out var value) && value is true;

    public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            var client = await listener.AcceptTcpClientAsync(cancellationToken);
            client.NoDelay = true;
            var remote = (IPEndPoint)client.Client.RemoteEndPoint!;
            if (!guards.Networks.CanConnect(remote.Address))
            {
                guards.OnRefused(remote, ConnectionRefusal.Network);
                _ = RefuseAsync(client, ConnectionRefusal.Network.Reply);
                continue;
            }
            if (!guards.Limiter.TryAcquire(remote.Address))
            {
                guards.OnRefused(remote, ConnectionRefusal.TooManyConnections);
                _ = RefuseAsync(client, ConnectionRefusal.TooManyConnections.Reply);
                continue;
            }
            context.Properties[EndpointListener.LocalEndPointKey] = listener.LocalEndpoint;
            context.Properties[EndpointListener.RemoteEndPointKey] = remote;
            context.Properties[TrustedNetworkKey] = guards.Networks.IsAllowed(remote.Address);
            var pipe = new NetworkDuplexPipe(client, guards.Limits, () => guards.Limiter.Release(remote.Address), closure => guards.OnClosed(remote, closure));
            context.CommandExecuting += (_, e) => pipe.State.Transaction.OnCommand(e.Command);
            return pipe;
        }
    }

    private static async Task RefuseAsync(TcpClient client, string reply)
    {
        using (client)
        {
            try
            {
                using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
                await client.GetStream().WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"), timeout.Token);
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

/// <summary>
/// What the listener needs to decide on a new connection, and whom it tells about what the stores
/// never see: a connection refused before the greeting, and a session Gateway ended on its own
/// (<see cref="SessionClosure"/>: DATA too large to keep, a timeout, too many errors).
/// </summary>
internal sealed record ListenerGuards(ClientNetworks Networks, ConnectionLimiter Limiter, SmtpSessionLimits Limits,
    Action<IPEndPoint, ConnectionRefusal> OnRefused, Action<IPEndPoint, SessionClosure> OnClosed);

/// <summary>Why a connection was refused before the greeting, with the reply and the audit reason.</summary>
internal sealed record ConnectionRefusal(string Reply, string Reason)
{
    public static readonly ConnectionRefusal Network = new(
        Gateway.Outcomes.Failures.Reply(Gateway.Outcomes.FailureKind.ClientNotAllowed).ToString(),
        "client network is not in Gateway:Smtp:AllowedNetworks");

    public static readonly ConnectionRefusal TooManyConnections = new(
        "421 4.7.0 Error: too many connections from your address",
        "too many connections from this client (Gateway:Smtp:MaxConnectionsPerClient)");
}
