using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Http;

/// <summary>
/// A raw HTTP client from a chosen loopback address (Linux answers on all of 127/8), so a test can
/// be several hosts: one that opens connections and never finishes a request, one that never reads.
/// From ::1 it connects to ::1.
/// </summary>
internal sealed class HttpPeer : IDisposable
{
    private readonly Socket _socket;

    private HttpPeer(AddressFamily family) => _socket = new(family, SocketType.Stream, ProtocolType.Tcp);

    public static async Task<HttpPeer> ConnectAsync(int port, string from = "127.0.0.1", int receiveBuffer = 0)
    {
        var address = IPAddress.Parse(from);
        var peer = new HttpPeer(address.AddressFamily);
        if (receiveBuffer > 0) peer._socket.ReceiveBufferSize = receiveBuffer;
        peer._socket.Bind(new IPEndPoint(address, 0));
        await peer._socket.ConnectAsync(address.AddressFamily == AddressFamily.InterNetworkV6 ? IPAddress.IPv6Loopback : IPAddress.Loopback, port);
        return peer;
    }

    /// <summary>Fails, saying why, when this machine has no ::1: the tests over IPv6 need it and are not skipped.</summary>
    public static void RequireIPv6Loopback()
    {
        try
        {
            using var probe = new Socket(AddressFamily.InterNetworkV6, SocketType.Stream, ProtocolType.Tcp);
            probe.Bind(new IPEndPoint(IPAddress.IPv6Loopback, 0));
        }
        catch (SocketException e)
        {
            Assert.Fail($"This machine has no IPv6 loopback (::1), which this test needs: {e.Message}");
        }
    }

    /// <summary>Connects, retrying while the gateway's endpoint is not listening yet.</summary>
    public static async Task<HttpPeer> ConnectWhenListeningAsync(int port, string from = "127.0.0.1")
    {
        for (var i = 0; ; i++)
        {
            try { return await ConnectAsync(port, from); }
            catch (SocketException) when (i < 100) { await Task.Delay(100); }
        }
    }

    public Task SendAsync(string text) => _socket.SendAsync(Encoding.ASCII.GetBytes(text).AsMemory()).AsTask();

    /// <summary>A request line and one header, without the blank line that ends the head.</summary>
    public Task SendHalfAsync(string path) => SendAsync($"GET {path} HTTP/1.1\r\nHost: x\r\n");

    /// <summary>Whether the server closed (or reset) the connection within <paramref name="limit"/>; what it sent before is read and dropped.</summary>
    public async Task<bool> ClosedWithinAsync(TimeSpan limit)
    {
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            while (await _socket.ReceiveAsync(buffer, timeout.Token) > 0) { }
            return true;
        }
        catch (SocketException) { return true; }
        catch (OperationCanceledException) { return false; }
    }

    /// <summary>Everything the server sends until it closes (or resets) the connection.</summary>
    public async Task<string> ReadToEndAsync(TimeSpan limit)
    {
        var received = new MemoryStream();
        var buffer = new byte[65536];
        using var timeout = new CancellationTokenSource(limit);
        try
        {
            int read;
            while ((read = await _socket.ReceiveAsync(buffer, timeout.Token)) > 0) received.Write(buffer, 0, read);
        }
        catch (SocketException)
        {
        }
        return Encoding.Latin1.GetString(received.ToArray());
    }

    /// <summary>The status line of a whole GET, sent by a well-behaved client from <paramref name="from"/>.</summary>
    public static async Task<string> GetStatusAsync(int port, string path, string from = "127.0.0.1", string? host = null)
    {
        using var peer = await ConnectAsync(port, from);
        await peer.SendAsync($"GET {path} HTTP/1.1\r\nHost: {host ?? $"127.0.0.1:{port}"}\r\n\r\n");
        return (await peer.ReadToEndAsync(TimeSpan.FromSeconds(10))).Split("\r\n")[0];
    }

    public static async Task<TimeSpan> TimeAsync(Func<Task> action)
    {
        var watch = Stopwatch.StartNew();
        await action();
        return watch.Elapsed;
    }

    public void Dispose() => _socket.Dispose();
}
