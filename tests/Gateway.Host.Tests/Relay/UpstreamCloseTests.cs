using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Relay;

/// <summary>
/// Giving a connection back never waits for the upstream: one that is done says QUIT in the
/// background, one after an error is dropped at once. A synchronous QUIT to an upstream that had
/// stopped answering held the worker's thread for a whole Relay:Timeout. A connection saying
/// goodbye still counts against Relay:MaxConnections, and the pool's stop accounts for it.
/// </summary>
public sealed class UpstreamCloseTests : IAsyncDisposable
{
    private readonly QuitlessUpstream _upstream = new();

    public ValueTask DisposeAsync() => _upstream.DisposeAsync();

    [Fact]
    public async Task ConnectionDoneWith_SaysQuitInTheBackground_WithoutWaitingForTheAnswer()
    {
        using var pool = _upstream.NewPool();
        var connection = await pool.RentAsync(CancellationToken.None);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        pool.Return(connection, reusable: true); // its one message sent: Relay:MaxMessagesPerConnection reached
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Return took {clock.Elapsed.TotalSeconds:0.0} s waiting for a QUIT the upstream never answers");
        Assert.True(await _upstream.QuitSeen.WaitAsync(TimeSpan.FromSeconds(5)), "no QUIT reached the upstream");
    }

    [Fact]
    public async Task ConnectionAfterAnError_IsDroppedAtOnce_WithoutQuit()
    {
        using var pool = _upstream.NewPool();
        var connection = await pool.RentAsync(CancellationToken.None);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        pool.Return(connection, reusable: false);
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Return took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.False(await _upstream.QuitSeen.WaitAsync(TimeSpan.FromMilliseconds(500)), "QUIT sent to a connection in an unknown state");
    }

    [Fact]
    public async Task RefusalLeavesAKnownState_SoTheConnectionSaysQuit_InTheBackground()
    {
        using var pool = _upstream.NewPool();
        var connection = await pool.RentAsync(CancellationToken.None);

        var clock = System.Diagnostics.Stopwatch.StartNew();
        pool.Return(connection, reusable: false, quit: true);
        clock.Stop();

        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"Return took {clock.Elapsed.TotalSeconds:0.0} s");
        Assert.True(await _upstream.QuitSeen.WaitAsync(TimeSpan.FromSeconds(5)), "no QUIT reached the upstream");
    }

    /// <summary>With Relay:MaxConnections = 1, a connection still saying QUIT keeps the next one from opening.</summary>
    [Fact]
    public async Task ConnectionsSayingQuit_StillCountAgainstMaxConnections()
    {
        using var pool = _upstream.NewPool(maxConnections: 1, maxMessagesPerConnection: 1);
        for (var n = 0; n < 3; n++)
        {
            var connection = await pool.RentAsync(CancellationToken.None);
            pool.Return(connection, reusable: true); // its one message: QUIT in the background
        }
        await Task.Delay(500);

        Assert.True(_upstream.MostOpen <= 1, $"{_upstream.MostOpen} upstream connections open at once with Relay:MaxConnections = 1");
    }

    /// <summary>A worker that outlives the stop gives its connection back after the pool's Dispose: it is closed, not pooled.</summary>
    [Fact]
    public async Task ConnectionReturnedAfterDispose_IsClosed()
    {
        var pool = _upstream.NewPool(maxConnections: 2, maxMessagesPerConnection: 100);
        var connection = await pool.RentAsync(CancellationToken.None);
        pool.Dispose();

        pool.Return(connection, reusable: true);

        Assert.True(await _upstream.Closed.WaitAsync(TimeSpan.FromSeconds(7)), "the connection given back after Dispose is still open");
    }

    /// <summary>Dispose waits (boundedly) for a QUIT already under way in the background, not only for the idle connections'.</summary>
    [Fact]
    public async Task Dispose_AccountsForQuitsAlreadyUnderway()
    {
        var pool = _upstream.NewPool(maxConnections: 2, maxMessagesPerConnection: 1);
        var connection = await pool.RentAsync(CancellationToken.None);
        pool.Return(connection, reusable: true); // QUIT in the background, never answered

        pool.Dispose();

        // Our side, when Dispose returns: closed, not still waiting for the QUIT's answer.
        Assert.True(connection.Session.IsBroken, "Dispose returned while a background QUIT still holds an upstream connection open");
        // The upstream sees the close later, on its own thread-pool continuation, which a loaded machine delays.
        Assert.True(_upstream.Open == 0 || await _upstream.Closed.WaitAsync(TimeSpan.FromSeconds(5)), "the upstream never saw the connection closed");
    }
}
