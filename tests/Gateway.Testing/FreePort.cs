using System.Net;
using System.Net.Sockets;

namespace Gateway.Testing;

/// <summary>Free loopback TCP ports for peers and the gateway under test.</summary>
public static class FreePort
{
    /// <summary>
    /// Lets the kernel pick an unused port, then releases it. Another process could take it
    /// before the caller binds; on a test machine that window is small enough to accept.
    /// </summary>
    public static int Next()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();
        return port;
    }
}
