using System.Net;
using System.Net.Sockets;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// A server on loopback that takes every connection and never says a word, as an LDAP directory
/// or a CRL server behind a firewall that drops its replies does. It counts the connections.
/// </summary>
internal sealed class SilentServer : IDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly List<Socket> _held = [];
    private readonly byte[]? _greeting;
    private int _connections;

    /// <param name="greeting">
    /// Said on each connection before the silence, as an SMTP server that greets and never answers
    /// EHLO ("220 …"); null for none.
    /// </param>
    public SilentServer(string? greeting = null)
    {
        _greeting = greeting is null ? null : System.Text.Encoding.ASCII.GetBytes(greeting + "\r\n");
        _listener.Start(backlog: 1024);
        _ = AcceptAsync();
    }

    public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

    public int Connections => Volatile.Read(ref _connections);

    private async Task AcceptAsync()
    {
        while (true)
        {
            Socket socket;
            try { socket = await _listener.AcceptSocketAsync(); } catch (Exception) { return; }
            Interlocked.Increment(ref _connections);
            lock (_held) _held.Add(socket);
            if (_greeting is not null)
            {
                try { await socket.SendAsync(_greeting); } catch (Exception e) when (e is SocketException or ObjectDisposedException) { }
            }
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        lock (_held) foreach (var socket in _held) socket.Dispose();
    }
}
