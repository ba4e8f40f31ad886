using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using SmtpServer.IO;

namespace Gateway.Smtp;

/// <summary>
/// The duplex pipe SmtpServer reads and writes through. Its own is internal, and we need our own
/// listener to set TCP_NODELAY and to refuse clients, so this is the same small adapter.
/// </summary>
internal sealed class NetworkDuplexPipe : ISecurableDuplexPipe
{
    private readonly TcpClient _client;
    private Stream _stream;

    public NetworkDuplexPipe(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
        Input = PipeReader.Create(_stream);
        Output = PipeWriter.Create(_stream);
    }

    public PipeReader Input { get; private set; }
    public PipeWriter Output { get; private set; }
    public bool IsSecure => _stream is SslStream;
    public SslProtocols SslProtocol => (_stream as SslStream)?.SslProtocol ?? SslProtocols.None;

    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: true);
        try
        {
            await ssl.AuthenticateAsServerAsync(new SslServerAuthenticationOptions
            {
                ServerCertificate = certificate,
                ClientCertificateRequired = false,
                EnabledSslProtocols = protocols,
                CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
            }, cancellationToken);
        }
        catch
        {
            await ssl.DisposeAsync();
            throw;
        }
        // A new reader drops whatever the client pipelined in plaintext after STARTTLS (RFC 3207 §4.2).
        _stream = ssl;
        Input = PipeReader.Create(_stream);
        Output = PipeWriter.Create(_stream);
    }

    public void Dispose()
    {
        try
        {
            _stream.Dispose();
            _client.Dispose();
        }
        catch (IOException)
        {
        }
    }
}
