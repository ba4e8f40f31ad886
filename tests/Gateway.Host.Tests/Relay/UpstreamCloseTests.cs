using System.Net;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;
using Gateway.Relay;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Relay;

/// <summary>
/// Giving a connection back never waits for the upstream: one that is done says QUIT in the
/// background, one after an error is dropped at once. A synchronous QUIT to an upstream that had
/// stopped answering held the worker's thread for a whole Relay:Timeout.
/// </summary>
public sealed class UpstreamCloseTests : IAsyncDisposable
{
    private static readonly TimeSpan RelayTimeout = TimeSpan.FromSeconds(10);
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<string> _commands = [];
    private readonly SemaphoreSlim _quitSeen = new(0);

    public UpstreamCloseTests()
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

    /// <summary>An upstream that answers everything but QUIT.</summary>
    private async Task AcceptAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try { client = await _listener.AcceptTcpClientAsync(_stop.Token); }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException) { return; }
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
                            lock (_commands) _commands.Add(line);
                            if (line.StartsWith("EHLO", StringComparison.OrdinalIgnoreCase)) await Say("250-upstream.test\r\n250 8BITMIME");
                            else if (line.StartsWith("QUIT", StringComparison.OrdinalIgnoreCase)) _quitSeen.Release(); // and no answer
                            else await Say("250 2.0.0 ok");
                        }
                    }
                    catch (Exception e) when (e is IOException or OperationCanceledException or ObjectDisposedException)
                    {
                    }
                }
            });
        }
    }

    private UpstreamPool NewPool() => new(new RelayOptions
    {
        Host = "127.0.0.1",
        Port = ((IPEndPoint)_listener.LocalEndpoint).Port,
        TlsMode = RelayTlsMode.None,
        Timeout = RelayTimeout,
        MaxMessagesPerConnection = 1,
    }, "gateway.test", TimeProvider.System, NullLogger.Instance);

    [Fact]
    public async Task ConnectionDoneWith_SaysQuitInTheBackground_WithoutWaitingForTheAnswer()
    {
        using var pool = NewPool();
        var connection = await pool.RentAsync(CancellationToken.None);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        pool.Return(connection, reusable: true); // its one message sent: Relay:MaxMessagesPerConnection reached
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Return took {clock.Elapsed.TotalSeconds:0.0} s waiting for a QUIT the upstream never answers");
        Assert.True(await _quitSeen.WaitAsync(TimeSpan.FromSeconds(5)), "no QUIT reached the upstream");
    }

    [Fact]
    public async Task ConnectionAfterAnError_IsDroppedAtOnce_WithoutQuit()
    {
        using var pool = NewPool();
        var connection = await pool.RentAsync(CancellationToken.None);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        pool.Return(connection, reusable: false);
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Return took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.False(await _quitSeen.WaitAsync(TimeSpan.FromMilliseconds(500)), "QUIT sent to a connection in an unknown state");
    }

    [Fact]
    public async Task RefusalLeavesAKnownState_SoTheConnectionSaysQuit_InTheBackground()
    {
        using var pool = NewPool();
        var connection = await pool.RentAsync(CancellationToken.None);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        pool.Return(connection, reusable: false, quit: true);
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Return took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(await _quitSeen.WaitAsync(TimeSpan.FromSeconds(5)), "no QUIT reached the upstream");
    }
}
