using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// An upstream on loopback that plays a script against the relay's client, one script per
/// connection in the order they come, and keeps everything the client sent for the test to read.
/// </summary>
internal sealed class ScriptedUpstream : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly Task _served;
    private readonly MemoryStream _received = new();

    public ScriptedUpstream(params Func<ScriptedUpstream.Connection, Task>[] scripts)
    {
        _listener.Start();
        _served = ServeAsync(scripts);
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    /// <summary>All the client sent on every connection, as UTF-8.</summary>
    public string Received
    {
        get { lock (_received) return Encoding.UTF8.GetString(_received.ToArray()); }
    }

    /// <summary>How many connections the client opened so far.</summary>
    public int Connections { get; private set; }

    /// <summary>Fails when the script failed; waits at most <paramref name="timeout"/>.</summary>
    public Task Finished(TimeSpan timeout) => _served.WaitAsync(timeout);

    private async Task ServeAsync(Func<Connection, Task>[] scripts)
    {
        foreach (var script in scripts)
        {
            using var client = await _listener.AcceptTcpClientAsync();
            Connections++;
            await script(new Connection(client.GetStream(), this));
        }
    }

    public async ValueTask DisposeAsync()
    {
        _listener.Stop();
        try { await _served.WaitAsync(TimeSpan.FromSeconds(5)); }
        catch (Exception e) when (e is IOException or SocketException or TimeoutException or ObjectDisposedException) { }
    }

    /// <summary>The server's side of the one connection.</summary>
    internal sealed class Connection(NetworkStream stream, ScriptedUpstream owner)
    {
        private readonly byte[] _buffer = new byte[256 * 1024];
        private int _start;
        private int _end;

        public NetworkStream Stream => stream;

        public Task SayAsync(string replies) => stream.WriteAsync(Encoding.UTF8.GetBytes(replies.ReplaceLineEndings("\r\n") + "\r\n")).AsTask();

        /// <summary>The next line the client sent, without its CRLF; null at the end of the stream.</summary>
        public async Task<string?> LineAsync()
        {
            while (true)
            {
                var newLine = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
                if (newLine >= 0)
                {
                    var line = Encoding.UTF8.GetString(_buffer, _start, newLine - _start).TrimEnd('\r');
                    _start = newLine + 1;
                    return line;
                }
                if (await FillAsync() == 0) return null;
            }
        }

        /// <summary>Exactly <paramref name="count"/> bytes the client sent (a BDAT chunk).</summary>
        public async Task<string> BytesAsync(int count)
        {
            while (_end - _start < count)
                if (await FillAsync() == 0) throw new EndOfStreamException();
            var text = Encoding.UTF8.GetString(_buffer, _start, count);
            _start += count;
            return text;
        }

        /// <summary>Lines up to the lone dot (still dot-stuffed), without it.</summary>
        public async Task<string> DataAsync()
        {
            var data = new StringBuilder();
            while (await LineAsync() is { } line && line != ".") data.Append(line).Append("\r\n");
            return data.ToString();
        }

        /// <summary>Whether the client sent more than has been read, without waiting.</summary>
        public bool HasUnread => _end > _start || stream.DataAvailable;

        private async Task<int> FillAsync()
        {
            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }
            if (_end == _buffer.Length) throw new InvalidOperationException("the script read too little: its buffer is full");
            var read = await stream.ReadAsync(_buffer.AsMemory(_end));
            lock (owner._received) owner._received.Write(_buffer, _end, read);
            _end += read;
            return read;
        }
    }
}
