using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Smtp;

/// <summary>A byte-level SMTP client for tests that must see exactly what the server answers.</summary>
internal sealed class RawSmtpClient : IAsyncDisposable
{
    private readonly TcpClient _client;
    private Stream _stream;
    private StreamReader _reader;

    private RawSmtpClient(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    /// <summary>Starts TLS on the connection (after the server's 220 to STARTTLS), trusting any certificate.</summary>
    public async Task UpgradeToTlsAsync()
    {
        var ssl = new System.Net.Security.SslStream(_stream, leaveInnerStreamOpen: true, (_, _, _, _) => true);
        await ssl.AuthenticateAsClientAsync("localhost");
        _stream = ssl;
        _reader = new StreamReader(_stream, Encoding.ASCII);
    }

    /// <summary>Sends the greeting's EHLO, MAIL and one RCPT, each expected to succeed, then DATA (expecting 354).</summary>
    public async Task StartDataAsync(string from = "alice@example.test", string to = "dave@elsewhere.test")
    {
        Assert.StartsWith("220", await ReadReplyAsync());
        Assert.StartsWith("250", await CommandAsync("EHLO client.test"));
        Assert.StartsWith("250", await CommandAsync($"MAIL FROM:<{from}>"));
        Assert.StartsWith("250", await CommandAsync($"RCPT TO:<{to}>"));
        Assert.StartsWith("354", await CommandAsync("DATA"));
    }

    public static async Task<RawSmtpClient> ConnectAsync(int port)
    {
        var client = new TcpClient();
        await client.ConnectAsync("127.0.0.1", port);
        return new RawSmtpClient(client);
    }

    /// <summary>Reads one (possibly multi-line) reply; null when the server closed the connection.</summary>
    public async Task<string?> ReadReplyAsync(TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? TimeSpan.FromSeconds(10));
        var lines = new StringBuilder();
        while (true)
        {
            var line = await _reader.ReadLineAsync(cts.Token);
            if (line is null) return lines.Length == 0 ? null : lines.ToString();
            lines.AppendLine(line);
            if (line.Length < 4 || line[3] != '-') return lines.ToString().TrimEnd();
        }
    }

    public async Task SendAsync(string text) => await SendAsync(Encoding.ASCII.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes);
        await _stream.FlushAsync();
    }

    public async Task<string?> CommandAsync(string line)
    {
        await SendAsync(line + "\r\n");
        return await ReadReplyAsync();
    }

    public async ValueTask DisposeAsync()
    {
        await _stream.DisposeAsync();
        _client.Dispose();
    }
}
