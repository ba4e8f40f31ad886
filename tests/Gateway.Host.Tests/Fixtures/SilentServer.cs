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
    private int _connections;

    public SilentServer()
    {
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
        }
    }

    public void Dispose()
    {
        _listener.Stop();
        lock (_held) foreach (var socket in _held) socket.Dispose();
    }
}
