using System.Net;
using System.Net.Sockets;
using Gateway.Testing.Smtp;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// A loopback port bound but not listening: connections are refused (the upstream is "down"),
/// and no parallel test can be given the port until <see cref="StartSinkAsync"/> brings the
/// upstream up on it.
/// </summary>
public sealed class ReservedPort : IAsyncDisposable
{
    private readonly Socket _socket = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
    private CapturingSmtpSink? _sink;

    public ReservedPort()
    {
        _socket.Bind(new IPEndPoint(IPAddress.Loopback, 0));
        Port = ((IPEndPoint)_socket.LocalEndPoint!).Port;
    }

    public int Port { get; }

    /// <summary>
    /// Turns the port into a black hole: the kernel completes connections, nobody accepts them or
    /// sends a greeting, so a relay attempt hangs until its timeout.
    /// </summary>
    public void SwallowConnections() => _socket.Listen(64);

    public async Task<CapturingSmtpSink> StartSinkAsync()
    {
        _socket.Dispose();
        _sink = await CapturingSmtpSink.StartAsync(Port);
        return _sink;
    }

    public async ValueTask DisposeAsync()
    {
        _socket.Dispose();
        if (_sink is not null) await _sink.DisposeAsync();
    }
}
