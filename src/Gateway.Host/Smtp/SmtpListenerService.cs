using System.Net;
using System.Security.Authentication;
using Gateway.Audit;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Storage;

namespace Gateway.Smtp;

/// <summary>Runs the SMTP listener; <see cref="Ready"/> completes once the port is bound.</summary>
public sealed partial class SmtpListenerService : BackgroundService
{
    private readonly GatewayOptions _options;
    private readonly IServiceProvider _services;
    private readonly ClientNetworks _networks;
    private readonly IAuditLog _audit;
    private readonly ILogger<SmtpListenerService> _logger;
    private readonly IHostApplicationLifetime _lifetime;
    private readonly TaskCompletionSource<IPEndPoint> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private SmtpServer.SmtpServer? _server;
    private readonly RefusalThrottle _refusals;

    /// <summary>
    /// How long sessions may go on after the listener stopped accepting: a client in the middle of
    /// DATA gets its 250 (or its 451) instead of a cut connection. A third of the spool's shutdown
    /// timeout, at most 10 s, because an idle keep-alive session would otherwise use it all.
    /// </summary>
    public static TimeSpan GracePeriod(TimeSpan shutdownTimeout) => TimeSpan.FromTicks(Math.Min(shutdownTimeout.Ticks / 3, TimeSpan.FromSeconds(10).Ticks));

    public SmtpListenerService(IOptions<GatewayOptions> options, IServiceProvider services, ClientNetworks networks, IAuditLog audit, IHostApplicationLifetime lifetime, ILogger<SmtpListenerService> logger,
        TimeProvider time)
    {
        _refusals = new RefusalThrottle(time);
        _lifetime = lifetime;
        _options = options.Value;
        _services = services;
        _networks = networks;
        _audit = audit;
        _logger = logger;
    }

    /// <summary>The bound endpoint (the real port when 0 was configured).</summary>
    public Task<IPEndPoint> Ready => _ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var smtp = _options.Smtp;
        var limits = new SmtpSessionLimits(smtp.ServerName, smtp.MaxErrors, smtp.DataTimeout, smtp.MaxMessageSize, smtp.CommandTimeout);
        var factory = new GuardedEndpointListenerFactory(new ListenerGuards(_networks, new ConnectionLimiter(smtp.MaxConnectionsPerClient, MaxConnections()), limits, OnRefused, OnClosed, _logger));
        factory.EndpointStarted += (_, e) =>
        {
            var endpoint = (IPEndPoint)e.LocalEndPoint;
            LogListening(endpoint.ToString(), smtp.Tls.CertificatePath is { Length: > 0 }, smtp.Auth.Enabled);
            _ready.TrySetResult(endpoint);
        };

        ServerCertificateFactory? certificates;
        try
        {
            certificates = string.IsNullOrEmpty(smtp.Tls.CertificatePath) ? null : new ServerCertificateFactory(smtp.Tls, _logger);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            // Says which file; the password is never part of the message.
            LogCannotListen(e, $"{smtp.Address}:{smtp.Port}", e.Message);
            _ready.TrySetException(e);
            _lifetime.StopApplication();
            return;
        }

        var builder = SmtpServerSettings.Builder(smtp)
            .Endpoint(endpoint =>
            {
                endpoint.Endpoint(new IPEndPoint(IPAddress.Parse(smtp.Address), smtp.Port))
                    .SessionTimeout(smtp.SessionTimeout)
                    .SupportedSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13)
                    .AuthenticationRequired(false)
                    .AllowUnsecureAuthentication(false);
                if (certificates is not null) endpoint.Certificate(certificates);
            });

        var provider = new SmtpServer.ComponentModel.ServiceProvider();
        provider.Add(factory);
        provider.Add((SmtpServer.Protocol.ISmtpCommandFactory)new GatewayCommandFactory(offerDsn: true));
        var users = smtp.Auth.Enabled ? SmtpUsers.Load(smtp.Auth.UsersFile!).Users : null;
        var binding = new SenderBinding(smtp.Auth.RequireOwnSender ? users : null, smtp.MaxHeaderSize);
        provider.Add((IMessageStore)ActivatorUtilities.CreateInstance<SpoolingMessageStore>(_services, binding));
        if (users is not null)
        {
            provider.Add((SmtpServer.Authentication.IUserAuthenticator)new FileUserAuthenticator(users, _audit));
            if (smtp.Auth.RequireOwnSender && users.WithoutSenders.ToList() is { Count: > 0 } idle)
                LogUsersWithoutSenders(string.Join(", ", idle));
        }
        provider.Add((IMailboxFilter)new EnvelopeFilter(Options.Create(_options), _audit, binding));
        var server = new SmtpServer.SmtpServer(builder.Build(), provider);
        var refusalCounts = _refusals.RunAsync(count =>
        {
            LogRefusedCount(count.Client, count.Count, count.Refusal.Reason);
            _ = _audit.TryWriteAsync(count.Refusal.Audit(count.Client, leftOut: count.Count)).AsTask();
        }, stoppingToken);
        SessionTimeouts.Answer(server, stoppingToken);
        _server = server;
        try
        {
            await server.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (System.Net.Sockets.SocketException e)
        {
            // A port in use or an address not on this host: say so plainly and stop, instead of a stack trace.
            LogCannotListen(e, $"{smtp.Address}:{smtp.Port}", e.Message);
            _ready.TrySetException(e);
            _lifetime.StopApplication();
        }
        catch (Exception e)
        {
            _ready.TrySetException(e);
            throw;
        }
        await refusalCounts;
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        var server = _server;
        if (server is not null)
        {
            // Stop accepting first; sessions finish their transaction within the grace period, then are cancelled.
            server.Shutdown();
            var grace = GracePeriod(_options.Spool.ShutdownTimeout);
            LogStopping(grace);
            await Task.WhenAny(server.ShutdownTask, Task.Delay(grace, cancellationToken)).ConfigureAwait(false);
        }
        await base.StopAsync(cancellationToken);
    }

    /// <summary>Smtp:MaxConnections, lowered when the process's open-file limit cannot hold it (<see cref="ConnectionCap"/>).</summary>
    private int MaxConnections()
    {
        var listeners = ConnectionCap.For(_options);
        if (listeners.Lowered) LogConnectionsLowered(_options.Smtp.MaxConnections, listeners.Cap, listeners.OpenFileLimit!.Value, listeners.Delivery, ConnectionCap.Reserve, listeners.Count);
        // `gateway run` refuses to start with such settings (ConnectionCap.Refusal); a host started otherwise logs it.
        if (!listeners.Fits) LogDeliveryDoesNotFit(listeners.OpenFileLimit!.Value, listeners.Delivery, ConnectionCap.Reserve, listeners.Needed);
        return listeners.Cap;
    }

    private void OnRefused(IPEndPoint client, ConnectionRefusal refusal)
    {
        if (!_refusals.Admit(client.Address, refusal)) return;
        LogRefused(client.ToString(), refusal.Reason);
        _ = _audit.TryWriteAsync(refusal.Audit(client.Address.ToString())).AsTask();
    }

    private void OnClosed(IPEndPoint client, SessionClosure closure)
    {
        LogClosed(client.ToString(), closure.Reason);
        _ = _audit.TryWriteAsync(closure.Audit(client)).AsTask();
    }

    [LoggerMessage(EventId = 1008, Level = LogLevel.Warning, Message = "Smtp:Auth:UsersFile: {Users} may authenticate but own no sender address (the login is not an address and none is listed after the hash), so every MAIL FROM of theirs is refused while Smtp:Auth:RequireOwnSender holds")]
    private partial void LogUsersWithoutSenders(string users);

    [LoggerMessage(EventId = 1001, Level = LogLevel.Information, Message = "SMTP listening on {Endpoint} (STARTTLS offered: {Tls}, AUTH over TLS: {Auth})")]
    private partial void LogListening(string endpoint, bool tls, bool auth);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Critical, Message = "Cannot listen on {Endpoint}: {Reason}")]
    private partial void LogCannotListen(Exception exception, string endpoint, string reason);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "Refused connection from {Client}: {Reason}")]
    private partial void LogRefused(string client, string reason);
    [LoggerMessage(EventId = 1010, Level = LogLevel.Warning, Message = "Refused {Count} more connections from {Client} within a minute of the last line: {Reason}")]
    private partial void LogRefusedCount(string client, int count, string reason);
    [LoggerMessage(EventId = 1007, Level = LogLevel.Information, Message = "Closed the session of {Client}: {Reason}")]
    private partial void LogClosed(string client, string reason);

    [LoggerMessage(EventId = 1009, Level = LogLevel.Warning, Message = "Gateway:Smtp:MaxConnections {Configured} is lowered to {Cap} per listener: the process may open {Limit} files (its open-file limit, e.g. LimitNOFILE), {Delivery} of them kept for delivery (Relay:MaxConnections, Spool:Workers, Spool:MaxConcurrentTransforms) and {Reserve} for the spool, journal and the rest; the others are shared by {Listeners} listener(s), each connection holding one")]
    private partial void LogConnectionsLowered(int configured, int cap, long limit, int delivery, int reserve, int listeners);

    [LoggerMessage(EventId = 1011, Level = LogLevel.Error, Message = "The open-file limit {Limit} cannot hold delivery's {Delivery} files (Relay:MaxConnections, Spool:Workers, Spool:MaxConcurrentTransforms) and {Reserve} for the rest, and still one SMTP connection per listener: at least {Needed} are needed. Deliveries may fail with 'Too many open files'")]
    private partial void LogDeliveryDoesNotFit(long limit, int delivery, int reserve, long needed);

    [LoggerMessage(EventId = 1006, Level = LogLevel.Information, Message = "SMTP listener stopped accepting; open sessions get {Grace} to finish")]
    private partial void LogStopping(TimeSpan grace);

}
