using System.Net;
using System.Net.Sockets;
using SmtpServer;
using SmtpServer.Protocol;

namespace Gateway.Testing.Smtp;

/// <summary>
/// In-process SMTP server that records every message, for asserting on exactly what was relayed.
/// <see cref="OnRcpt"/> and <see cref="OnData"/> inject faults per recipient or per message.
/// </summary>
public sealed class CapturingSmtpSink : IAsyncDisposable
{
    private static readonly TimeSpan ReadyTimeout = TimeSpan.FromSeconds(10);
    private readonly List<CapturedMessage> _messages = [];
    private readonly CancellationTokenSource _stop = new();
    private SmtpServer.SmtpServer? _server;
    private Task _running = Task.CompletedTask;
    private int _disposed;
    private readonly HashSet<object> _mailSessions = new(ReferenceEqualityComparer.Instance);
    private int _open;
    private int _maxOpen;

    private CapturingSmtpSink(int port) => Port = port;

    public int Port { get; }

    /// <summary>Return a reply (e.g. 550 or 450) to reject that recipient at RCPT; null accepts.</summary>
    public Func<string, SmtpResponse?>? OnRcpt { get; set; }

    /// <summary>Return a reply for DATA (e.g. 451); non-2xx replies leave the message uncaptured. Null accepts.</summary>
    public Func<CapturedMessage, SmtpResponse?>? OnData { get; set; }

    /// <summary>SMTP sessions that sent at least one MAIL FROM (readiness probes do not count).</summary>
    public int Sessions
    {
        get
        {
            lock (_mailSessions) return _mailSessions.Count;
        }
    }

    internal void NoteMailSession(object session)
    {
        lock (_mailSessions) _mailSessions.Add(session);
    }

    /// <summary>The most connections that were open at the same time.</summary>
    public int MaxConcurrentSessions => Volatile.Read(ref _maxOpen);

    /// <summary>Snapshot of the messages received so far, in arrival order.</summary>
    public IReadOnlyList<CapturedMessage> Messages
    {
        get
        {
            lock (_messages)
            {
                return _messages.ToList();
            }
        }
    }

    /// <param name="certificate">When given, the sink offers STARTTLS (TLS 1.2 and 1.3) with it.</param>
    /// <param name="commandTimeout">When given, the sink drops a connection idle this long (an upstream closing idle sessions).</param>
    public static async Task<CapturingSmtpSink> StartAsync(int? port = null, CancellationToken cancellationToken = default,
        System.Security.Cryptography.X509Certificates.X509Certificate2? certificate = null, TimeSpan? commandTimeout = null)
    {
        var sink = new CapturingSmtpSink(port ?? FreePort.Next());
        var builder = new SmtpServerOptionsBuilder();
        if (commandTimeout is { } timeout) builder.CommandWaitTimeout(timeout);
        var options = builder
            .ServerName("sink.example.test")
            // Offers SIZE, as real MTAs do, so that the SIZE a client declares can be checked.
            .MaxMessageSize(200 * 1024 * 1024, SmtpServer.MaxMessageSizeHandling.Strict)
            .Endpoint(b =>
            {
                b.Endpoint(new IPEndPoint(IPAddress.Loopback, sink.Port));
                if (certificate is not null)
                    b.Certificate(certificate).SupportedSslProtocols(System.Security.Authentication.SslProtocols.Tls12 | System.Security.Authentication.SslProtocols.Tls13);
            })
            .Build();
        var services = new SmtpServer.ComponentModel.ServiceProvider();
        services.Add(new CapturingMessageStore(sink));
        services.Add(new HookMailboxFilter(sink));
        sink._server = new SmtpServer.SmtpServer(options, services);
        sink._server.SessionCreated += (_, _) =>
        {
            var open = Interlocked.Increment(ref sink._open);
            int max;
            while (open > (max = Volatile.Read(ref sink._maxOpen)) && Interlocked.CompareExchange(ref sink._maxOpen, open, max) != max) { }
        };
        sink._server.SessionCompleted += (_, _) => Interlocked.Decrement(ref sink._open);
        sink._server.SessionFaulted += (_, _) => Interlocked.Decrement(ref sink._open);
        sink._server.SessionCancelled += (_, _) => Interlocked.Decrement(ref sink._open);

        // StartAsync only completes at shutdown, so it runs in the background.
        sink._running = sink._server.StartAsync(sink._stop.Token);
        try
        {
            await sink.WaitUntilListeningAsync(cancellationToken).ConfigureAwait(false);
        }
        catch
        {
            await sink.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        return sink;
    }

    /// <summary>Waits until at least <paramref name="count"/> messages arrived; throws TimeoutException otherwise.</summary>
    public async Task<IReadOnlyList<CapturedMessage>> WaitForMessagesAsync(int count, TimeSpan timeout,
        CancellationToken cancellationToken = default)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            var snapshot = Messages;
            if (snapshot.Count >= count)
            {
                return snapshot;
            }

            if (DateTime.UtcNow >= deadline)
            {
                throw new TimeoutException($"Sink on port {Port} received {snapshot.Count} of {count} messages within {timeout}.");
            }

            await Task.Delay(50, cancellationToken).ConfigureAwait(false);
        }
    }

    public void Clear()
    {
        lock (_messages)
        {
            _messages.Clear();
        }
    }

    /// <summary>Stops the sink; a second call (a test that took the upstream down, then its fixture) does nothing.</summary>
    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _server?.Shutdown();
        await _stop.CancelAsync().ConfigureAwait(false);
        try
        {
            await _running.ConfigureAwait(false);
        }
        catch (OperationCanceledException)
        {
            // Expected: cancellation is how the listener loop ends.
        }

        _stop.Dispose();
    }

    internal void Add(CapturedMessage message)
    {
        lock (_messages)
        {
            _messages.Add(message);
        }
    }

    private async Task WaitUntilListeningAsync(CancellationToken cancellationToken)
    {
        var deadline = DateTime.UtcNow + ReadyTimeout;
        while (true)
        {
            if (_running.IsFaulted)
            {
                await _running.ConfigureAwait(false); // surfaces e.g. "address already in use"
            }

            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(IPAddress.Loopback, Port, cancellationToken).ConfigureAwait(false);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50, cancellationToken).ConfigureAwait(false);
            }
        }
    }
}
