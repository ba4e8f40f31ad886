using System.Text;
using Gateway.Http;

namespace Gateway.Tests.Http;

/// <summary>The server under both HTTP endpoints, with short deadlines: what it answers, and that no client holds up another.</summary>
public sealed class ReadOnlyHttpServerTests : IAsyncDisposable
{
    private static readonly byte[] Big = new byte[64 << 20];
    private readonly CancellationTokenSource _stop = new();
    private readonly ReadOnlyHttpServer _server;
    private readonly Task _serving;

    public ReadOnlyHttpServerTests()
    {
        var limits = HttpLimits.Default with { HeadDeadline = TimeSpan.FromSeconds(1), WriteDeadline = TimeSpan.FromSeconds(3) };
        _server = new ReadOnlyHttpServer(new HttpPrefix("127.0.0.1", 0, "/pki/"), limits, allowedHosts: null, Answer, _ => { }); // port 0: the kernel picks one
        _serving = _server.ServeAsync(_stop.Token);
    }

    private int Port => _server.LocalEndpoint.Port;

    private static Task<HttpAnswer> Answer(string name, CancellationToken cancellationToken) => Task.FromResult(name switch
    {
        "big" => HttpAnswer.Ok("application/octet-stream", Big),
        "small" => HttpAnswer.Ok("text/plain", "small"u8.ToArray()),
        "fails" => throw new IOException("unreadable"),
        _ => HttpAnswer.NotFound,
    });

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        await _serving.WaitAsync(TimeSpan.FromSeconds(10));
        _server.Dispose();
        _stop.Dispose();
    }

    [Fact]
    public async Task ClientThatNeverReads_DoesNotHoldUpAnotherClientsGet_AndIsClosedAtTheWriteDeadline()
    {
        using var stalled = await HttpPeer.ConnectAsync(Port, receiveBuffer: 4096);
        await stalled.SendAsync("GET /pki/big HTTP/1.1\r\nHost: x\r\n\r\n");
        await Task.Delay(200); // its answer is being written

        var elapsed = await HttpPeer.TimeAsync(async () => Assert.Equal("HTTP/1.1 200 OK", await HttpPeer.GetStatusAsync(Port, "/pki/small")));
        Assert.True(elapsed < TimeSpan.FromSeconds(1), $"answered after {elapsed}");

        await Task.Delay(TimeSpan.FromSeconds(3)); // past the write deadline, still not reading
        var received = await stalled.ReadToEndAsync(TimeSpan.FromSeconds(10));
        Assert.InRange(received.Length, 1, Big.Length - 1); // what was in flight, then the close
    }

    [Fact]
    public async Task Head_IsAnsweredWithItsLengthAndNoBody()
    {
        using var peer = await HttpPeer.ConnectAsync(Port);
        await peer.SendAsync("HEAD /pki/small HTTP/1.1\r\nHost: x\r\n\r\n");
        var answer = await peer.ReadToEndAsync(TimeSpan.FromSeconds(5));
        Assert.StartsWith("HTTP/1.1 200 OK\r\n", answer);
        Assert.Contains("\r\nContent-Length: 5\r\n", answer);
        Assert.Contains("\r\nConnection: close\r\n", answer);
        Assert.EndsWith("\r\n\r\n", answer);
    }

    [Theory]
    [InlineData("GET /pki/small HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK")]
    [InlineData("GET http://gateway.example:8080/pki/small?x=1 HTTP/1.1\r\nHost: gateway.example:8080\r\n\r\n", "HTTP/1.1 200 OK")]
    [InlineData("GET /PKI/small HTTP/1.0\n\n", "HTTP/1.1 200 OK")]
    // The last segment, unescaped, as HttpListener gave it: distribution points in issued certificates keep resolving.
    [InlineData("GET /pki/%73mall HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK")]
    [InlineData("GET /pki/sub/small HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK")]
    [InlineData("GET /pki/small/ HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 200 OK")]
    [InlineData("POST /pki/small HTTP/1.1\r\nHost: x\r\nContent-Length: 0\r\n\r\n", "HTTP/1.1 404 Not Found")]
    [InlineData("GET /small HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found")]
    [InlineData("GET /pki/other HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 404 Not Found")]
    [InlineData("GET /pki/fails HTTP/1.1\r\nHost: x\r\n\r\n", "HTTP/1.1 500 Internal Server Error")]
    [InlineData("GET /pki/small\r\n\r\n", "HTTP/1.1 400 Bad Request")]
    [InlineData("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "HTTP/1.1 400 Bad Request")]
    // RFC 9112 §3.2: an HTTP/1.1 request without Host, or with two, is a 400; §5.1: so is whitespace before a colon.
    [InlineData("GET /pki/small HTTP/1.1\r\n\r\n", "HTTP/1.1 400 Bad Request")]
    [InlineData("GET /pki/small HTTP/1.1\r\nHost: x\r\nhost: y\r\n\r\n", "HTTP/1.1 400 Bad Request")]
    [InlineData("GET /pki/small HTTP/1.1\r\nHost : x\r\n\r\n", "HTTP/1.1 400 Bad Request")]
    public async Task Request_IsAnsweredWith(string request, string statusLine)
    {
        using var peer = await HttpPeer.ConnectAsync(Port);
        await peer.SendAsync(request);
        Assert.Equal(statusLine, (await peer.ReadToEndAsync(TimeSpan.FromSeconds(5))).Split("\r\n")[0]);
    }

    [Fact]
    public async Task HeadLongerThanTheLimit_IsAnswered431()
    {
        using var peer = await HttpPeer.ConnectAsync(Port);
        await peer.SendAsync("GET /pki/small HTTP/1.1\r\nX-Filler: " + new string('a', 9000) + "\r\n\r\n");
        Assert.StartsWith("HTTP/1.1 431 ", await peer.ReadToEndAsync(TimeSpan.FromSeconds(5)));
    }
}
