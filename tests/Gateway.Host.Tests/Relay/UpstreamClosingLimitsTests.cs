using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Relay;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Relay;

/// <summary>
/// The background QUIT: what a connection saying goodbye still holds. The
/// upstream answers everything but QUIT, as one that stopped answering does, so a closing
/// connection stays open for the whole 5 s QUIT bound.
/// </summary>
public sealed class UpstreamClosingLimitsTests : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _closed = new(0);
    private int _open;
    private int _mostOpen;

    public UpstreamClosingLimitsTests()
    {
        _listener.Start();
        _ = AcceptAsync();
    }

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
            InterlockedMax(ref _mostOpen, now);
            _ = Task.Run(async () =>
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
                            else if (line.StartsWith("QUIT", StringComparison.OrdinalIgnoreCase)) { } // no answer
                            else await Say("250 2.0.0 ok");
                        }
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                    {
                    }
                    finally
                    {
                        Interlocked.Decrement(ref _open);
                        _closed.Release();
                    }
                }
            });
        }
    }

    private static void InterlockedMax(ref int target, int value)
    {
        int seen;
        while ((seen = Volatile.Read(ref target)) < value && Interlocked.CompareExchange(ref target, value, seen) != seen) { }
    }

    private UpstreamPool NewPool(int maxConnections, int maxMessagesPerConnection) => new(new RelayOptions
    {
        Host = "127.0.0.1",
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
        TlsMode = RelayTlsMode.None,
        Timeout = TimeSpan.FromSeconds(10),
        MaxConnections = maxConnections,
        MaxMessagesPerConnection = maxMessagesPerConnection,
    }, "gateway.test", TimeProvider.System, NullLogger.Instance);

    /// <summary>
    /// Return releases the slot before the background QUIT is done, so a connection saying goodbye
    /// no longer counts: with Relay:MaxConnections = 1, three sockets are open to the upstream at once.
    /// </summary>
    [Fact]
    public async Task ConnectionsSayingQuit_StillCountAgainstMaxConnections()
    {
        using var pool = NewPool(maxConnections: 1, maxMessagesPerConnection: 1);
        for (var n = 0; n < 3; n++)
        {
            var connection = await pool.RentAsync(CancellationToken.None);
            pool.Return(connection, reusable: true); // its one message: QUIT in the background
        }
        await Task.Delay(500);

        Assert.True(Volatile.Read(ref _mostOpen) <= 1, $"{Volatile.Read(ref _mostOpen)} upstream connections open at once with Relay:MaxConnections = 1");
    }

    /// <summary>
    /// A worker that outlives the stop (the host's shutdown timeout ran out) gives its connection
    /// back after the pool's Dispose: it goes on the idle stack that nobody empties again, and the
    /// socket stays open, without QUIT, until the process ends.
    /// </summary>
    [Fact]
    public async Task ConnectionReturnedAfterDispose_IsClosed()
    {
        var pool = NewPool(maxConnections: 2, maxMessagesPerConnection: 100);
        var connection = await pool.RentAsync(CancellationToken.None);
        pool.Dispose();

        pool.Return(connection, reusable: true);

        Assert.True(await _closed.WaitAsync(TimeSpan.FromSeconds(7)), "the connection given back after Dispose is still open");
    }

    /// <summary>
    /// Dispose waits (up to 6 s) only for the idle connections' QUITs; a QUIT already under way in
    /// the background (Relay:MaxMessagesPerConnection reached just before the stop) is neither
    /// waited for nor cut, so the process may exit in its middle.
    /// </summary>
    [Fact]
    public async Task Dispose_AccountsForQuitsAlreadyUnderway()
    {
        var pool = NewPool(maxConnections: 2, maxMessagesPerConnection: 1);
        var connection = await pool.RentAsync(CancellationToken.None);
        pool.Return(connection, reusable: true); // QUIT in the background, never answered

        pool.Dispose();

        Assert.True(Volatile.Read(ref _open) == 0 || await _closed.WaitAsync(TimeSpan.FromMilliseconds(200)),
            "Dispose returned while a background QUIT still holds an upstream connection open");
    }
}
