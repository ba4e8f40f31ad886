using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Relay;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// An upstream on loopback that answers everything but QUIT, as one that stopped answering does:
/// a connection saying goodbye to it stays open until the client gives up. It counts what it sees.
/// </summary>
internal sealed class QuitlessUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private int _open;
    private int _mostOpen;

    public QuitlessUpstream()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>Released once per QUIT received.</summary>
    public SemaphoreSlim QuitSeen { get; } = new(0);

    /// <summary>Released once per connection the client closed.</summary>
    public SemaphoreSlim Closed { get; } = new(0);

    public int Open => Volatile.Read(ref _open);

    /// <summary>The most connections open at once so far.</summary>
    public int MostOpen => Volatile.Read(ref _mostOpen);

    public UpstreamPool NewPool(int maxConnections = 8, int maxMessagesPerConnection = 1) => new(new RelayOptions
    {
        Host = "127.0.0.1",
        Port = Port,
        TlsMode = RelayTlsMode.None,
        Timeout = TimeSpan.FromSeconds(10),
        MaxConnections = maxConnections,
        MaxMessagesPerConnection = maxMessagesPerConnection,
    }, "gateway.test", TimeProvider.System, NullLogger.Instance);

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        _stop.Dispose();
    }

    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
            var now = Interlocked.Increment(ref _open);
            int seen;
            while ((seen = Volatile.Read(ref _mostOpen)) < now && Interlocked.CompareExchange(ref _mostOpen, now, seen) != seen) { }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            var stream = client.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);
            async Task Say(string reply) => await stream.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n"));
            try
            {
                await Say("220 upstream.test ESMTP");
                while (await reader.ReadLineAsync(_stop.Token) is { } line)
                {
                    if (line.StartsWith("EHLO", StringComparison.OrdinalIgnoreCase)) await Say("250-upstream.test\r\n250 8BITMIME");
                    else if (line.StartsWith("QUIT", StringComparison.OrdinalIgnoreCase)) QuitSeen.Release(); // and no answer
                    else await Say("250 2.0.0 ok");
                }
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
            {
            }
            finally
            {
                Interlocked.Decrement(ref _open);
                Closed.Release();
            }
        }
    }
}
