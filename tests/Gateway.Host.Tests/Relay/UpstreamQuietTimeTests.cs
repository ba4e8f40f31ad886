using System.Diagnostics;
using Gateway.Configuration;
using Gateway.Relay;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Relay;

/// <summary>
/// A host that gave no session (no connection, no answer within Relay:Timeout) is tried after
/// the others for three times Relay:Timeout. A silent Relay:Host with a healthy fallback made
/// every new connection wait a whole Relay:Timeout first: with Timeout 10 s, a third of the
/// copies of a hostile-peer run were delayed up to 10.7 s, in bursts whenever the pool refilled.
/// </summary>
public sealed class UpstreamQuietTimeTests : IAsyncLifetime
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(1);
    private static readonly TimeSpan QuietTime = Timeout * 3;
    private readonly FakeTimeProvider _time = new();
    private readonly List<IAsyncDisposable> _cleanup = [];
    private CapturingSmtpSink _fallback = null!;

    public async Task InitializeAsync()
    {
        _fallback = await CapturingSmtpSink.StartAsync();
        _cleanup.Add(_fallback);
    }

    public async Task DisposeAsync()
    {
        foreach (var item in Enumerable.Reverse(_cleanup)) await item.DisposeAsync();
    }

    /// <summary>Relay:Host on <paramref name="primary"/>, then one fallback (the healthy sink unless given); every copy on a new connection.</summary>
    private UpstreamPool Pool(int primary, ILogger? logger = null, int? fallback = null) => new(new RelayOptions
    {
        Host = "127.0.0.1",
        Port = primary,
        FallbackHosts = [$"127.0.0.1:{fallback ?? _fallback.Port}"],
        TlsMode = RelayTlsMode.None,
        Timeout = Timeout,
        MaxConnections = 4,
        MaxMessagesPerConnection = 1,
    }, "gateway.test", _time, logger ?? NullLogger.Instance);

    /// <summary>The port of the host a new connection went to; the connection is closed at once.</summary>
    private static async Task<int> RentAsync(UpstreamPool pool)
    {
        var connection = await pool.RentAsync(CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(30));
        pool.Return(connection, reusable: false);
        return connection.Host.Port;
    }

    [Theory]
    [InlineData(null)]
    [InlineData("220 silent.test ESMTP")]
    public async Task SilentPrimary_WithAHealthyFallback_CostsOneTimeout_NotOnePerNewConnection(string? greeting)
    {
        using var silent = new SilentServer(greeting);
        using var pool = Pool(silent.Port);

        var clock = Stopwatch.StartNew();
        var hosts = new List<int>();
        for (var i = 0; i < 5; i++) hosts.Add(await RentAsync(pool));
        clock.Stop();

        Assert.All(hosts, port => Assert.Equal(_fallback.Port, port));
        Assert.Equal(1, silent.Connections);
        // One Relay:Timeout in all; before, one for each of the 5 connections.
        Assert.InRange(clock.Elapsed, Timeout * 0.9, Timeout * 3);
    }

    [Fact]
    public async Task AfterThreeTimesRelayTimeout_TheSilentPrimaryIsTriedFirstAgain()
    {
        using var silent = new SilentServer("220 silent.test ESMTP");
        using var pool = Pool(silent.Port);

        Assert.Equal(_fallback.Port, await RentAsync(pool));
        _time.Advance(QuietTime - TimeSpan.FromMilliseconds(1));
        Assert.Equal(_fallback.Port, await RentAsync(pool));
        Assert.Equal(1, silent.Connections);

        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(_fallback.Port, await RentAsync(pool));
        Assert.Equal(2, silent.Connections);
    }

    /// <summary>The pool refills several connections at once: one asks the host again, the others do not wait for it.</summary>
    [Fact]
    public async Task WhenTheQuietTimeIsOver_OneOfTheConnectionsOpenedTogetherAsksTheSilentPrimary()
    {
        using var silent = new SilentServer("220 silent.test ESMTP");
        using var pool = Pool(silent.Port);
        Assert.Equal(_fallback.Port, await RentAsync(pool));

        _time.Advance(QuietTime);
        var clock = Stopwatch.StartNew();
        var opened = await Task.WhenAll(Enumerable.Range(0, 4).Select(_ => Task.Run(async () => (Port: await RentAsync(pool), clock.Elapsed))));

        Assert.All(opened, o => Assert.Equal(_fallback.Port, o.Port));
        Assert.Equal(2, silent.Connections);
        Assert.Equal(3, opened.Count(o => o.Elapsed < Timeout * 0.5));
    }

    [Fact]
    public async Task APrimaryThatAnswersAgain_IsUsedAgain_AndItsRecoveryIsLogged()
    {
        await using var primary = new ReservedPort();
        primary.SwallowConnections(); // connections complete, nobody greets
        var log = new CapturedLog();
        using var pool = Pool(primary.Port, log.CreateLogger("relay"));

        Assert.Equal(_fallback.Port, await RentAsync(pool));
        var warning = Assert.Single(log.Events(5201)).Message;
        Assert.Contains($"trying 127.0.0.1:{_fallback.Port} next; new connections try 127.0.0.1:{primary.Port} after the other hosts until ", warning);

        var up = await primary.StartSinkAsync();
        Assert.Equal(_fallback.Port, await RentAsync(pool)); // still in its quiet time
        Assert.Equal(0, up.Sessions);

        _time.Advance(QuietTime);
        Assert.Equal(primary.Port, await RentAsync(pool));
        Assert.Equal(primary.Port, await RentAsync(pool));
        Assert.Contains($"127.0.0.1:{primary.Port}", Assert.Single(log.Events(5203)).Message);
    }

    /// <summary>The memory of a failure never defers a copy on its own: with every host in a quiet time, all are asked, in order.</summary>
    [Fact]
    public async Task EveryHostInAQuietTime_AllAreStillTriedInOrder()
    {
        await using var primary = new ReservedPort();
        await using var second = new ReservedPort();
        using var pool = Pool(primary.Port, fallback: second.Port);

        await Assert.ThrowsAnyAsync<System.Net.Sockets.SocketException>(() => RentAsync(pool)); // both refuse: both in a quiet time
        var secondUp = await second.StartSinkAsync();
        await primary.StartSinkAsync();

        Assert.Equal(primary.Port, await RentAsync(pool));
        Assert.Equal(0, secondUp.Sessions);
    }

    /// <summary>A silent host whose quiet time is over and that then greets with 421 has answered: its next connection asks it first.</summary>
    [Fact]
    public async Task ASilentPrimaryThatGreetsWith421AfterItsQuietTime_IsTriedFirstAgainAtOnce()
    {
        static async Task Silent(ScriptedUpstream.Connection c)
        {
            await c.SayAsync("220 primary.test ESMTP");
            try { while (await c.LineAsync() is not null) { } } // EHLO, never answered, until the client gives up
            catch (IOException) { }
        }
        static Task Busy(ScriptedUpstream.Connection c) => c.SayAsync("421 4.3.2 primary.test too busy, try later");
        await using var primary = new ScriptedUpstream(Silent, Busy, Busy);
        using var pool = Pool(primary.Port);
        Assert.Equal(_fallback.Port, await RentAsync(pool));

        _time.Advance(QuietTime);
        Assert.Equal(_fallback.Port, await RentAsync(pool));
        Assert.Equal(_fallback.Port, await RentAsync(pool));
        await primary.Finished(TimeSpan.FromSeconds(10));
        Assert.Equal(3, primary.Connections);
    }

    /// <summary>A host that answers, even with a refusal at its greeting, answered at once: it is not left alone.</summary>
    [Fact]
    public async Task APrimaryThatGreetsWith421_IsStillTriedFirstByTheNextConnection()
    {
        static Task Busy(ScriptedUpstream.Connection c) => c.SayAsync("421 4.3.2 busy.test too busy, try later");
        await using var busy = new ScriptedUpstream(Busy, Busy);
        using var pool = Pool(busy.Port);

        Assert.Equal(_fallback.Port, await RentAsync(pool));
        Assert.Equal(_fallback.Port, await RentAsync(pool));
        await busy.Finished(TimeSpan.FromSeconds(10));
        Assert.Equal(2, busy.Connections);
    }
}
