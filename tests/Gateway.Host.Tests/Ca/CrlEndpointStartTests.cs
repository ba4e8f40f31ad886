using System.Net;
using System.Net.Http;
using System.Net.Sockets;
using Gateway.Testing;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Http;

namespace Gateway.Tests.Ca;

/// <summary>How the CRL endpoint starts when its port is taken, by the metrics or by another program.</summary>
public sealed class CrlEndpointStartTests : IDisposable
{
    private readonly GatewayWorld _world = new();
    private readonly int _port = FreePort.Next();

    public CrlEndpointStartTests()
    {
        _world.Settings["Gateway:Ca:Enabled"] = "true";
        _world.Settings["Gateway:Ca:Path"] = Path.Combine(_world.Root, "ca");
        _world.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";
        _world.Settings["Gateway:Ca:Password"] = "ca-password";
        _world.Settings["Gateway:Ca:CrlHttpPrefix"] = $"http://127.0.0.1:{_port}/pki/";
    }

    public void Dispose() => _world.Dispose();

    /// <summary>HttpListener let the two share a port; settings that ran before still start, the CRL keeps the port, and the metrics say why they are not served.</summary>
    [Fact]
    public async Task CrlAndMetricsOnOnePort_TheCrlIsServed_AndTheMetricsSayWhyNot()
    {
        _world.Settings["Gateway:Metrics:HttpPrefix"] = $"http://127.0.0.1:{_port}/";
        var log = new CapturedLog();
        await using var gateway = await RunningGateway.StartAsync(_world, log.AddTo);

        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(10) };
        byte[] crl = [];
        for (var i = 0; i < 100 && crl.Length == 0; i++)
        {
            try { crl = await http.GetByteArrayAsync($"http://127.0.0.1:{_port}/pki/ca.crl"); }
            catch (HttpRequestException) { await Task.Delay(100); }
        }
        Assert.NotEmpty(crl);
        Assert.Contains(log.Events(9002), e => e.Message.Contains("its port is Gateway:Ca:CrlHttpPrefix's", StringComparison.Ordinal));
    }

    /// <summary>Relying parties fetch the CRL by whatever name the certificates' distribution points carry: unlike the metrics, any Host is served.</summary>
    [Fact]
    public async Task CrlOnAnIPv6Literal_IsServedThere_WhateverHostTheRequestNames()
    {
        HttpPeer.RequireIPv6Loopback();
        _world.Settings["Gateway:Ca:CrlHttpPrefix"] = $"http://[::1]:{_port}/pki/";
        await using var gateway = await RunningGateway.StartAsync(_world);

        (await HttpPeer.ConnectWhenListeningAsync(_port, from: "::1")).Dispose();
        Assert.Equal("HTTP/1.1 200 OK", await HttpPeer.GetStatusAsync(_port, "/pki/ca.crl", from: "::1", host: "pki.example.com"));
    }

    /// <summary>The endpoint's task is awaited only at the stop: a port that cannot be bound went without a word, and partners found no CRL.</summary>
    [Fact]
    public async Task APortTakenByAnotherProgram_IsLoggedAsAnError_AndMailGoesOn()
    {
        using var taken = new TcpListener(IPAddress.Loopback, _port);
        taken.Start();
        var log = new CapturedLog();
        await using var gateway = await RunningGateway.StartAsync(_world, log.AddTo);

        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(20);
        while (log.Events(7009).Count == 0 && DateTime.UtcNow < deadline) await Task.Delay(100);

        Assert.Contains(log.Events(7009), e => e.Message.Contains($"Cannot serve the CRL on http://127.0.0.1:{_port}/pki/", StringComparison.Ordinal));
        Assert.StartsWith("2.0.0", await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "still flowing"), "alice@example.test", "dave@elsewhere.test"));
    }
}
