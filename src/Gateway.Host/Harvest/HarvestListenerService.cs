using System.Net;
using Gateway.Audit;
using Gateway.Ca;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Smtp;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;
using SmtpServer.Storage;

namespace Gateway.Harvest;

/// <summary>
/// The second SMTP endpoint (Gateway:Harvest), for inbound mail: same listener protections as
/// the outbound one (allowed networks, line and error limits, TCP_NODELAY), no spool, no policy.
/// </summary>
public sealed partial class HarvestListenerService(
    IOptions<GatewayOptions> options, LocalCertificateStore local, CertificateCache cache, IAuditLog audit, IServiceProvider services, ILogger<HarvestListenerService> logger,
    TimeProvider time) : BackgroundService
{
    private readonly TaskCompletionSource<IPEndPoint> _ready = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The bound endpoint; never completes when the endpoint is off.</summary>
    public Task<IPEndPoint> Ready => _ready.Task;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var harvest = options.Value.Harvest;
        if (!harvest.Enabled) return;
        var smtp = options.Value.Smtp;
        var networks = ClientNetworks.For(harvest.EffectiveAllowedNetworks);
        var limits = new SmtpSessionLimits(smtp.ServerName, smtp.MaxErrors, smtp.DataTimeout, smtp.MaxMessageSize, smtp.CommandTimeout);
        var refusals = new RefusalThrottle(time);
        var factory = new GuardedEndpointListenerFactory(new ListenerGuards(networks, new ConnectionLimiter(smtp.MaxConnectionsPerClient, ConnectionCap.For(options.Value).Cap), limits,
            (client, refusal) =>
            {
                if (refusals.Admit(client.Address, refusal))
                    _ = audit.TryWriteAsync(refusal.Audit(client.Address.ToString(), "inbound endpoint: ")).AsTask();
            },
            (client, closure) =>
            {
                LogClosed(client.ToString(), closure.Reason);
                _ = audit.TryWriteAsync(closure.Audit(client, "inbound endpoint: ")).AsTask();
            }, logger));
        factory.EndpointStarted += (_, e) =>
        {
            LogListening(e.LocalEndPoint.ToString()!, harvest.UpstreamHost, harvest.UpstreamPort);
            _ready.TrySetResult((IPEndPoint)e.LocalEndPoint);
        };
        var builder = SmtpServerSettings.Builder(smtp)
            .Endpoint(endpoint => endpoint.Endpoint(new IPEndPoint(IPAddress.Parse(harvest.Address), harvest.Port)).SessionTimeout(smtp.SessionTimeout));
        var provider = new SmtpServer.ComponentModel.ServiceProvider();
        provider.Add(factory);
        provider.Add((SmtpServer.Protocol.ISmtpCommandFactory)new GatewayCommandFactory(offerDsn: false));
        var keys = harvest.Decrypt ? services.GetRequiredService<HeldIdentities>() : null;
        var domains = new RecipientDomains(harvest.Domains);
        if (domains.Unset) LogAnyRecipientDomain();
        provider.Add((IMailboxFilter)new AddressKeepingFilter(smtp.MaxMessageSize, domains, audit));
        provider.Add((IMessageStore)new HarvestingMessageStore(harvest, smtp.MaxMessageSize, smtp.MaxHops, smtp.ServerName, local, cache, keys, audit, services.GetRequiredService<TimeProvider>(), logger));
        var server = new SmtpServer.SmtpServer(builder.Build(), provider);
        SessionTimeouts.Answer(server, stoppingToken);
        var refusalCounts = refusals.RunAsync(count => _ = audit.TryWriteAsync(count.Refusal.Audit(count.Client, "inbound endpoint: ", count.Count)).AsTask(), stoppingToken);
        try
        {
            await server.StartAsync(stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        catch (Exception e)
        {
            _ready.TrySetException(e);
            throw;
        }
        await refusalCounts;
    }

    [LoggerMessage(EventId = 6005, Level = LogLevel.Warning, Message = "Inbound endpoint: Gateway:Harvest:Domains is not set, so mail for any recipient domain is passed on to the internal MTA; list the company's domains (example.com, *.example.com) to refuse the others at RCPT")]
    private partial void LogAnyRecipientDomain();

    [LoggerMessage(EventId = 6003, Level = LogLevel.Information, Message = "Inbound endpoint: closed the session of {Client}: {Reason}")]
    private partial void LogClosed(string client, string reason);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "Inbound (harvesting) endpoint listening on {Endpoint}, passing mail on to {Upstream}:{Port}")]
    private partial void LogListening(string endpoint, string upstream, int port);
}
