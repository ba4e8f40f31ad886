using System.Net.Security;
using System.Net.Sockets;
using System.Text;
using Gateway.Configuration;

namespace Gateway.Relay;

/// <summary>
/// One SMTP session with the upstream, as a relaying MTA holds it: greeting, EHLO, STARTTLS,
/// AUTH, then transactions. With PIPELINING a transaction is one batch (RFC 2920): MAIL, every
/// RCPT and DATA go together, and with CHUNKING a copy up to 64 KiB too (`BDAT n LAST`, RFC
/// 3030), so a copy costs two round trips with DATA and one with BDAT, where a client that waits
/// for each reply needs three or more. On a WAN link to a hosted upstream that is the difference
/// between 3 and 1 round trips per message.
/// <para>
/// One user at a time (the pool's). Every wait is bounded by Relay:Timeout: the connect here,
/// every read and write by <see cref="CoalescingStream"/>, but for the reply to the end of the
/// data, which gets RFC 5321's 10 minutes; any failure leaves the session broken, never reused.
/// </para>
/// </summary>
internal sealed partial class UpstreamSession : IDisposable
{
    /// <summary>How long a QUIT may take before the connection is simply closed.</summary>
    private static readonly TimeSpan QuitTimeout = TimeSpan.FromSeconds(5);
    private readonly Socket _socket;
    private readonly CoalescingStream _transport;
    private readonly ReplyReader _replies;
    private readonly UpstreamSettings _settings;
    private Stream _stream;
    private bool _broken;

    private UpstreamSession(Socket socket, UpstreamSettings settings)
    {
        _socket = socket;
        _settings = settings;
        _transport = new CoalescingStream(new NetworkStream(socket, ownsSocket: true));
        var timeout = Milliseconds(settings.Timeout);
        _transport.ReadTimeout = timeout;
        _transport.WriteTimeout = timeout;
        _stream = _transport;
        _replies = new ReplyReader(_transport);
    }

    public UpstreamCapabilities Capabilities { get; private set; } = UpstreamCapabilities.None;

    /// <summary>Why opportunistic TLS was not used though the upstream offered it (its refusal of STARTTLS), for the pool to log; else null.</summary>
    public string? TlsDeclined { get; private set; }

    /// <summary>The SASL mechanism the session authenticated with; null without Relay:Username.</summary>
    public string? AuthenticatedWith { get; private set; }

    private bool IsEncrypted => _stream is SslStream;

    /// <summary>How the session is protected, for the audit: "TLSv1.3 TLS_AES_256_GCM_SHA384", or "none".</summary>
    public string Protection => _stream is SslStream tls
        ? $"{tls.SslProtocol switch { System.Security.Authentication.SslProtocols.Tls13 => "TLSv1.3", System.Security.Authentication.SslProtocols.Tls12 => "TLSv1.2", var other => other.ToString() }} {tls.NegotiatedCipherSuite}"
        : "none";

    /// <summary>Broken by an error or a 421: never to be used again, nor to say QUIT.</summary>
    public bool IsBroken => _broken;

    /// <summary>
    /// Whether the upstream still has the connection open, checked without waiting: an upstream
    /// closes idle connections (Postfix after 300 s, often far sooner), and a copy sent into a
    /// closed one fails and waits for the next retry.
    /// </summary>
    public bool IsOpenAtPeer()
    {
        // A reply no command asked for is no session to reuse (ThrowIfUnasked).
        if (_broken || _replies.HasUnreadBytes) return false;
        try
        {
            // An idle session has nothing to read: what is there is the end of the stream, or the
            // upstream's goodbye ("421 …", or SmtpServer's "221 Timeout …") before it.
            return !_socket.Poll(0, SelectMode.SelectRead);
        }
        catch (Exception e) when (e is SocketException or ObjectDisposedException)
        {
            return false;
        }
    }

    /// <summary>Connects and opens the session: ready for MAIL.</summary>
    /// <exception cref="IOException">The upstream could not be reached, broke the protocol or refused the session (then with its reply).</exception>
    public static async Task<UpstreamSession> OpenAsync(UpstreamHost host, UpstreamSettings settings, CancellationToken cancellationToken)
    {
        // TCP_NODELAY: commands and replies are small, and Nagle against delayed ACKs costs ~40 ms a message.
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        // Bounded like every later wait, so a host that never answers leaves time for the next one.
        using var connectTimeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        connectTimeout.CancelAfter(settings.Timeout);
        try
        {
            await socket.ConnectAsync(host.Name, host.Port, connectTimeout.Token);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw new IOException(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"upstream {host} did not accept the connection within {settings.Timeout.TotalSeconds:0.#} s"));
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        var session = new UpstreamSession(socket, settings);
        try
        {
            await session.StartAsync(host, cancellationToken);
            return session;
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    private async Task StartAsync(UpstreamHost host, CancellationToken cancellationToken)
    {
        var greeting = await ReadReplyAsync(cancellationToken);
        if (greeting.Code != 220) throw Refused(host, "its greeting", greeting);
        await HelloAsync(host, cancellationToken);
        if (_settings.TlsMode == RelayTlsMode.Required && !Capabilities.StartTls)
            throw new UpstreamProtocolException($"upstream {host} offers no STARTTLS, and Relay:TlsMode is Required");
        if (_settings.TlsMode != RelayTlsMode.None && Capabilities.StartTls) await StartTlsAsync(host, cancellationToken);
        if (!string.IsNullOrEmpty(_settings.Username)) await AuthenticateAsync(host, cancellationToken);
        ThrowIfUnasked($"upstream {host}");
    }

    private async Task HelloAsync(UpstreamHost host, CancellationToken cancellationToken)
    {
        var lines = new List<string>();
        await WriteAsync($"EHLO {_settings.HeloName}\r\n", cancellationToken);
        await _stream.FlushAsync(cancellationToken);
        var reply = await ReadReplyAsync(cancellationToken, lines);
        if (reply.IsPositive)
        {
            Capabilities = UpstreamCapabilities.Parse(lines.Skip(1));
            return;
        }
        // An upstream that knows no EHLO: plain SMTP, without extensions (RFC 5321 §3.2).
        if (reply.Code is 500 or 502)
        {
            var helo = await CommandAsync($"HELO {_settings.HeloName}\r\n", cancellationToken);
            if (helo.IsPositive)
            {
                Capabilities = UpstreamCapabilities.None;
                return;
            }
            reply = helo;
        }
        throw Refused(host, "EHLO", reply);
    }

    private async Task StartTlsAsync(UpstreamHost host, CancellationToken cancellationToken)
    {
        var reply = await CommandAsync("STARTTLS\r\n", cancellationToken);
        if (reply.Code != 220 && _settings.TlsMode == RelayTlsMode.Opportunistic && !reply.ClosesConnection && string.IsNullOrEmpty(_settings.Username))
        {
            // "454 TLS not available" and the like: the session goes on in clear, as with an upstream
            // that offers no STARTTLS (Postfix at "may" does the same).
            TlsDeclined = $"upstream {host} refused STARTTLS: {reply}";
            return;
        }
        if (reply.Code != 220) throw Refused(host, "STARTTLS", reply);
        if (_replies.HasUnreadBytes)
            throw new UpstreamProtocolException($"upstream {host} sent data after its reply to STARTTLS: refused, as it would be read as if sent over TLS");
        var tls = new SslStream(_transport, leaveInnerStreamOpen: true);
        _stream = tls;
        _replies.Stream = tls;
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = host.Name,
                RemoteCertificateValidationCallback = _settings.Validation,
            }, cancellationToken);
        }
        catch (Exception e) when (e is System.Security.Authentication.AuthenticationException or IOException)
        {
            throw new UpstreamTlsException($"TLS with upstream {host} failed: {e.Message}", e);
        }
        // What the upstream offered before TLS is forgotten (RFC 3207 §4.2).
        await HelloAsync(host, cancellationToken);
    }

    private async Task AuthenticateAsync(UpstreamHost host, CancellationToken cancellationToken)
    {
        // Kept whatever the start-up checks allow (today Opportunistic with a user name is refused
        // there, and Required without TLS fails before this): a password is never sent in clear
        // unless TlsMode None says the admin wants it so, on a network they trust.
        if (!IsEncrypted && _settings.TlsMode != RelayTlsMode.None)
            throw new UpstreamProtocolException($"upstream {host} offers no STARTTLS: Relay:Username's password is not sent over a plain connection (Relay:TlsMode None allows it)");
        var (reply, mechanism) = await SaslAuthenticator.AuthenticateAsync(CommandAsync, Capabilities.Authentication, _settings.Username!, _settings.Password ?? string.Empty, host, cancellationToken);
        if (reply.Code != 235) throw Refused(host, $"AUTH {mechanism}", reply);
        AuthenticatedWith = mechanism;
    }

    /// <summary>Checks that the upstream still answers.</summary>
    public async Task NoOpAsync(CancellationToken cancellationToken)
    {
        try
        {
            var reply = await CommandAsync("NOOP\r\n", cancellationToken);
            if (reply.Code != 250) throw new UpstreamProtocolException($"the upstream answered NOOP with {reply}");
            ThrowIfUnasked("the upstream");
        }
        catch
        {
            _broken = true;
            throw;
        }
    }

    /// <summary>QUIT within a few seconds, then close; a goodbye that fails is no matter, the connection closes either way.</summary>
    public async Task CloseAsync()
    {
        using var timeout = new CancellationTokenSource(QuitTimeout);
        try
        {
            await QuitAsync(timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException) // closed meanwhile by the pool's Dispose
        {
        }
    }

    /// <summary>Says QUIT and waits for the answer (the caller bounds the wait); the connection closes either way.</summary>
    public async Task QuitAsync(CancellationToken cancellationToken)
    {
        try
        {
            if (!_broken) await CommandAsync("QUIT\r\n", cancellationToken);
        }
        finally
        {
            Dispose();
        }
    }

    public void Dispose()
    {
        _broken = true;
        if (_stream != _transport) _stream.Dispose();
        _transport.Dispose();
    }

    private async ValueTask<UpstreamReply> CommandAsync(string command, CancellationToken cancellationToken)
    {
        await WriteAsync(command, cancellationToken);
        await _stream.FlushAsync(cancellationToken);
        return await ReadReplyAsync(cancellationToken);
    }

    private ValueTask WriteAsync(string command, CancellationToken cancellationToken) =>
        _stream.WriteAsync(Encoding.UTF8.GetBytes(command), cancellationToken);

    private async ValueTask<UpstreamReply> ReadReplyAsync(CancellationToken cancellationToken, List<string>? lines = null)
    {
        var reply = await _replies.ReadAsync(cancellationToken, lines);
        if (reply.ClosesConnection) _broken = true;
        return reply;
    }

    /// <summary>
    /// Bytes no command asked for: read as the answer to the next command, they would put every
    /// later reply one place off, a refusal on another recipient.
    /// </summary>
    private void ThrowIfUnasked(string upstream)
    {
        if (_replies.HasUnreadBytes) throw new UpstreamProtocolException($"{upstream} sent a reply no command asked for");
    }

    private static int Milliseconds(TimeSpan timeout) => (int)Math.Min(int.MaxValue, timeout.TotalMilliseconds);

    private static UpstreamProtocolException Refused(UpstreamHost host, string what, UpstreamReply reply) =>
        new($"upstream {host} refused {what}: {reply}");
}
