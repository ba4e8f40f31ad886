using System.Net;
using System.Net.Sockets;
using System.Text;
using SmtpServer;
using SmtpServer.IO;
using SmtpServer.Net;
using Microsoft.Extensions.Logging;

namespace Gateway.Smtp;

/// <summary>
/// Accepts connections for SmtpServer with TCP_NODELAY set (without it every reply waits ~40 ms
/// for a delayed ACK). Before any SMTP state exists, it refuses clients outside the allowed
/// networks with a 554 5.7.1 greeting (RFC 5321 §3.1), and clients that already have too many
/// connections open, or any client when there are too many in all, with a 421.
/// </summary>
internal sealed partial class GuardedEndpointListener(TcpListener listener, ListenerGuards guards, Action onDispose) : IEndpointListener
{
    private readonly ILogger _logger = guards.Logger;

    /// <summary>
    /// The longest pause after an accept the system refused. SmtpServer accepts again at once
    /// after an error: with the process out of file descriptors that loop took a whole core and
    /// the runtime, unable to open what it needed, aborted ("Out of memory.").
    /// </summary>
    private static readonly TimeSpan MaxAcceptPause = TimeSpan.FromSeconds(1);

    private int _acceptFailures;

    /// <summary>Session property: true when the client's network may relay without AUTH.</summary>
    public const string TrustedNetworkKey = "Gateway:TrustedNetwork";

    /// <summary>Whether the session's client is in a network that may relay without AUTH.</summary>
    public static bool IsTrusted(ISessionContext context) =>
        context.Properties.TryGetValue(TrustedNetworkKey, out var value) && value is true;

    public async Task<ISecurableDuplexPipe> GetPipeAsync(ISessionContext context, CancellationToken cancellationToken)
    {
        while (true)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(cancellationToken);
            }
            catch (SocketException e) when (OutOfResources(e.SocketErrorCode))
            {
                // The connection waits in the backlog meanwhile; descriptors come back as sessions end.
                if (++_acceptFailures == 1) LogAcceptFailing(listener.LocalEndpoint.ToString()!, e.Message);
                await Task.Delay(TimeSpan.FromMilliseconds(Math.Min(MaxAcceptPause.TotalMilliseconds, 50 * _acceptFailures)), cancellationToken);
                continue;
            }
            if (_acceptFailures > 0)
            {
                LogAcceptRecovered(listener.LocalEndpoint.ToString()!, _acceptFailures);
                _acceptFailures = 0;
            }
            client.NoDelay = true;
            var remote = (IPEndPoint)client.Client.RemoteEndPoint!;
            if (!guards.Networks.CanConnect(remote.Address))
            {
                guards.OnRefused(remote, ConnectionRefusal.Network);
                _ = RefuseAsync(client, ConnectionRefusal.Network.Reply);
                continue;
            }
            if (guards.Limiter.TryAcquire(remote.Address) is { } tooMany)
            {
                guards.OnRefused(remote, tooMany);
                _ = RefuseAsync(client, tooMany.Reply);
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

    /// <summary>EMFILE, ENFILE, ENOBUFS, ENOMEM: the system is out of something a new connection needs, for now.</summary>
    private static bool OutOfResources(SocketError error) => error is SocketError.TooManyOpenSockets or SocketError.NoBufferSpaceAvailable;

    [LoggerMessage(EventId = 3008, Level = LogLevel.Error, Message = "Listener {Endpoint} cannot accept connections: {Reason}; it tries again, pausing up to a second between tries (Gateway:Smtp:MaxConnections and the process's open-file limit set how many connections it holds)")]
    private partial void LogAcceptFailing(string endpoint, string reason);

    [LoggerMessage(EventId = 3009, Level = LogLevel.Information, Message = "Listener {Endpoint} accepts connections again, after {Failures} refused accepts")]
    private partial void LogAcceptRecovered(string endpoint, int failures);
}

/// <summary>
/// What the listener needs to decide on a new connection, and whom it tells about what the stores
/// never see: a connection refused before the greeting, and a session Gateway ended on its own
/// (<see cref="SessionClosure"/>: DATA too large to keep, a timeout, too many errors).
/// </summary>
internal sealed record ListenerGuards(ClientNetworks Networks, ConnectionLimiter Limiter, SmtpSessionLimits Limits,
    Action<IPEndPoint, ConnectionRefusal> OnRefused, Action<IPEndPoint, SessionClosure> OnClosed, ILogger Logger);

/// <summary>Why a connection was refused before the greeting, with the reply and the audit reason.</summary>
internal sealed record ConnectionRefusal(string Reply, string Reason)
{
    /// <summary>The audit line of one refusal of <paramref name="client"/>, or of <paramref name="leftOut"/> that <see cref="RefusalThrottle"/> counted.</summary>
    public Gateway.Audit.AuditEvent Audit(string client, string reasonPrefix = "", int leftOut = 0) => new("connection-refused")
    {
        Client = client, Action = "refused", Reason = reasonPrefix + Reason, Reply = Reply, Status = leftOut > 0 ? RefusalThrottle.Status(leftOut) : null,
    };

    public static readonly ConnectionRefusal Network = new(
        Gateway.Outcomes.Failures.Reply(Gateway.Outcomes.FailureKind.ClientNotAllowed).ToString(),
        "client network is not in Gateway:Smtp:AllowedNetworks");

    public static readonly ConnectionRefusal TooManyConnections = new(
        "421 4.7.0 Error: too many connections from your address",
        "too many connections from this client (Gateway:Smtp:MaxConnectionsPerClient)");

    public static readonly ConnectionRefusal TooManyInAll = new(
        "421 4.3.2 Error: too many connections, try again later",
        "too many connections in all (Gateway:Smtp:MaxConnections)");
}
