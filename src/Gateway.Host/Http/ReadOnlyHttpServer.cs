using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Http;

/// <summary>
/// A small read-only HTTP/1.1 server for the CA's CRL and the metrics: GET and HEAD of the names
/// under one prefix, one request per connection (Connection: close), no request body read. It
/// replaces HttpListener, which on Linux kept a request that never finished its headers open for
/// good (its HeaderWait is Windows-only; IdleConnection spares such a request), had no limit on
/// connections and answered one request at a time: 1,100 half-sent requests took a process's 1,024
/// descriptors and the runtime aborted the gateway. Here every connection has deadlines, is served
/// on its own, and counts against <see cref="HttpLimits"/>; one over them is closed at once.
/// </summary>
internal sealed class ReadOnlyHttpServer : IDisposable
{
    private readonly HttpPrefix _prefix;
    private readonly HttpLimits _limits;
    private readonly HttpHostCheck? _hosts;
    private readonly Func<string, CancellationToken, Task<HttpAnswer>> _answer;
    private readonly Action<Exception> _failed;
    private readonly TcpListener _listener;
    private readonly Lock _lock = new();
    private readonly Dictionary<IPAddress, int> _perClient = [];
    private readonly HashSet<Task> _connections = [];
    private int _open;

    /// <summary>Listens at once: an address that cannot be bound throws here (SocketException).</summary>
    /// <param name="allowedHosts">Null: any Host is answered. Else the names a request's Host may carry besides those <see cref="HttpHostCheck"/> always allows; any other is answered 421.</param>
    /// <param name="answer">Makes the answer for a name under the prefix ("ca.crl"); called only for GET and HEAD.</param>
    /// <param name="failed">Told of each answer that could not be made (it is answered 500).</param>
    public ReadOnlyHttpServer(HttpPrefix prefix, HttpLimits limits, IEnumerable<string>? allowedHosts, Func<string, CancellationToken, Task<HttpAnswer>> answer, Action<Exception> failed)
    {
        _prefix = prefix;
        _limits = limits;
        _hosts = allowedHosts is null ? null : new HttpHostCheck(_prefix, allowedHosts);
        _answer = answer;
        _failed = failed;
        var address = _prefix.Address();
        _listener = new TcpListener(address, _prefix.Port);
        if (address.Equals(IPAddress.IPv6Any)) _listener.Server.DualMode = true;
        _listener.Start();
    }

    public IPEndPoint LocalEndpoint => (IPEndPoint)_listener.LocalEndpoint;

    /// <summary>
    /// Listens at <paramref name="prefix"/> and serves until the stop. A prefix that cannot be
    /// listened at (a port in use, a name without an address) is told to <paramref name="cannotListen"/>,
    /// and nothing is served: neither endpoint is worth stopping mail for.
    /// </summary>
    public static async Task RunAsync(string prefix, HttpLimits limits, IEnumerable<string>? allowedHosts, Func<string, CancellationToken, Task<HttpAnswer>> answer, Action<Exception> failed,
        Action<string> cannotListen, Action listening, CancellationToken stoppingToken)
    {
        ReadOnlyHttpServer server;
        try
        {
            server = new ReadOnlyHttpServer(HttpPrefix.Parse(prefix), limits, allowedHosts, answer, failed);
        }
        catch (Exception e) when (e is SocketException or FormatException)
        {
            cannotListen(e.Message);
            return;
        }
        using (server)
        {
            listening();
            await server.ServeAsync(stoppingToken);
        }
    }

    /// <summary>Accepts until the stop, then waits for the connections still open (their deadlines end them).</summary>
    public async Task ServeAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            Socket socket;
            try
            {
                socket = await _listener.AcceptSocketAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                break;
            }
            catch (SocketException)
            {
                // Out of descriptors (taken elsewhere in the process) or a connection reset while
                // queued: try again shortly rather than spin or stop serving.
                await Task.Delay(100, CancellationToken.None);
                continue;
            }
            var client = Client(socket);
            if (!Admit(client))
            {
                socket.Dispose();
                continue;
            }
            var connection = ServeConnectionAsync(socket, client, stoppingToken);
            lock (_lock) _connections.Add(connection);
            _ = connection.ContinueWith(done => { lock (_lock) _connections.Remove(done); }, TaskScheduler.Default);
        }
        Task[] open;
        lock (_lock) open = [.. _connections];
        await Task.WhenAll(open);
    }

    private static IPAddress Client(Socket socket) => HttpClientKey.Of((socket.RemoteEndPoint as IPEndPoint)?.Address ?? IPAddress.None);

    private bool Admit(IPAddress client)
    {
        lock (_lock)
        {
            var fromClient = _perClient.GetValueOrDefault(client);
            if (_open >= _limits.MaxConnections || fromClient >= _limits.MaxConnectionsPerClient) return false;
            _perClient[client] = fromClient + 1;
            _open++;
            return true;
        }
    }

    private async Task ServeConnectionAsync(Socket socket, IPAddress client, CancellationToken stoppingToken)
    {
        await Task.Yield(); // the accept loop goes on at once
        try
        {
            await using var stream = new NetworkStream(socket, ownsSocket: true);
            HttpRequestHead? head;
            using (var reading = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken))
            {
                reading.CancelAfter(_limits.HeadDeadline);
                head = await HttpRequestHead.ReadAsync(stream, _limits.MaxHeadBytes, reading.Token);
            }
            if (head is null) return;
            var answer = await AnswerAsync(head, stoppingToken);
            using var writing = CancellationTokenSource.CreateLinkedTokenSource(stoppingToken);
            writing.CancelAfter(_limits.WriteDeadline);
            await stream.WriteAsync(Head(answer), writing.Token);
            if (head.Method != "HEAD") await stream.WriteAsync(answer.Body, writing.Token);
            socket.Shutdown(SocketShutdown.Send);
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or SocketException or ObjectDisposedException)
        {
            // Past a deadline, stopped, or the client went away: the connection is closed, nothing more.
        }
        finally
        {
            socket.Dispose();
            lock (_lock)
            {
                _open--;
                if (--_perClient[client] == 0) _perClient.Remove(client);
            }
        }
    }

    private async Task<HttpAnswer> AnswerAsync(HttpRequestHead head, CancellationToken stoppingToken)
    {
        if (head.Refusal != 0) return HttpAnswer.Empty(head.Refusal);
        if (_hosts is not null && !_hosts.Allows(head)) return HttpAnswer.Empty(421);
        // Anything but GET and HEAD of a name under the prefix: nothing here.
        if (head.Method is not ("GET" or "HEAD") || _prefix.NameUnder(head) is not { } name) return HttpAnswer.NotFound;
        try
        {
            return await _answer(name, stoppingToken);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            _failed(e);
            return HttpAnswer.Empty(500);
        }
    }

    private static byte[] Head(HttpAnswer answer)
    {
        var head = new StringBuilder()
            .Append(CultureInfo.InvariantCulture, $"HTTP/1.1 {answer.Status} {answer.Reason}\r\n")
            .Append(CultureInfo.InvariantCulture, $"Date: {DateTimeOffset.UtcNow:r}\r\n");
        if (answer.ContentType is { } type) head.Append(CultureInfo.InvariantCulture, $"Content-Type: {type}\r\n");
        head.Append(CultureInfo.InvariantCulture, $"Content-Length: {answer.Body.Length}\r\nConnection: close\r\n\r\n");
        return Encoding.ASCII.GetBytes(head.ToString());
    }

    public void Dispose() => _listener.Dispose();
}
