using Gateway.Testing;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Http;

/// <summary>
/// The gateway's HTTP endpoints (here the metrics; the CRL endpoint is the same server) against
/// hostile clients: a request that never ends its head is closed at the deadline, and connections
/// over the caps are closed at once, so a peer cannot take the process's descriptors. Before, 1,100
/// half-sent requests held for good took a 1,024-descriptor process down ("Out of memory.", SIGABRT).
/// </summary>
public sealed class HttpEndpointLimitsTests : IDisposable
{
    private readonly GatewayWorld _world = new();
    private readonly int _port = FreePort.Next();

    public HttpEndpointLimitsTests() => _world.Settings["Gateway:Metrics:HttpPrefix"] = $"http://127.0.0.1:{_port}/";

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task HalfSentRequest_IsClosedAtTheHeadDeadline_NotHeldForGood()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        using var slow = await HttpPeer.ConnectWhenListeningAsync(_port);
        await slow.SendHalfAsync("/metrics");

        Assert.False(await slow.ClosedWithinAsync(TimeSpan.FromSeconds(5)), "closed before the 10 s deadline");
        Assert.True(await slow.ClosedWithinAsync(TimeSpan.FromSeconds(10)), "still open 15 s after the request began");
        Assert.Equal("HTTP/1.1 200 OK", await HttpPeer.GetStatusAsync(_port, "/metrics"));
    }

    /// <summary>
    /// Over IPv6 too, on a dual-mode [::] listener where the IPv4 client counts apart. An IPv6 client
    /// counts by its /64; loopback has only ::1, so the grouping itself is proved in HttpClientKeyTests.
    /// </summary>
    [Theory]
    [InlineData("127.0.0.1", "127.0.0.2")]
    [InlineData("[::]", "::1")]
    public async Task ConnectionsOverThePerClientCap_AreClosedAtOnce_AndAnotherClientIsAnswered(string listenHost, string client)
    {
        if (client == "::1") HttpPeer.RequireIPv6Loopback();
        _world.Settings["Gateway:Metrics:HttpPrefix"] = $"http://{listenHost}:{_port}/";
        await using var gateway = await RunningGateway.StartAsync(_world);
        // Not from the client: the server may not have let this connection go when the 20 begin.
        (await HttpPeer.ConnectWhenListeningAsync(_port)).Dispose();
        var held = new List<HttpPeer>();
        try
        {
            for (var i = 0; i < 20; i++)
            {
                held.Add(await HttpPeer.ConnectAsync(_port, from: client));
                await held[^1].SendHalfAsync("/metrics");
            }
            var closed = await Task.WhenAll(held.Select(p => p.ClosedWithinAsync(TimeSpan.FromSeconds(2))));
            Assert.Equal(12, closed.Count(c => c)); // 8 per client are let in
            Assert.Equal("HTTP/1.1 200 OK", await HttpPeer.GetStatusAsync(_port, "/metrics", from: "127.0.0.1"));
        }
        finally
        {
            held.ForEach(p => p.Dispose());
        }
    }

    [Fact]
    public async Task ConnectionOverTheTotalCap_IsClosedAtOnce_AndServedAgainWhenOthersEnd()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        (await HttpPeer.ConnectWhenListeningAsync(_port)).Dispose();
        var held = new List<HttpPeer>();
        try
        {
            for (var host = 2; host < 10; host++) // 8 hosts x 8 = the 64 the endpoint takes at once
                for (var i = 0; i < 8; i++)
                {
                    held.Add(await HttpPeer.ConnectAsync(_port, from: $"127.0.0.{host}"));
                    await held[^1].SendHalfAsync("/metrics");
                }
            Assert.False(await held[^1].ClosedWithinAsync(TimeSpan.FromSeconds(1)));

            using var extra = await HttpPeer.ConnectAsync(_port, from: "127.0.0.1");
            await extra.SendAsync($"GET /metrics HTTP/1.1\r\nHost: 127.0.0.1:{_port}\r\n\r\n");
            Assert.Equal("", await extra.ReadToEndAsync(TimeSpan.FromSeconds(2))); // closed at once, unanswered

            held.ForEach(p => p.Dispose());
            await Task.Delay(500);
            Assert.Equal("HTTP/1.1 200 OK", await HttpPeer.GetStatusAsync(_port, "/metrics"));
        }
        finally
        {
            held.ForEach(p => p.Dispose());
        }
    }
}
