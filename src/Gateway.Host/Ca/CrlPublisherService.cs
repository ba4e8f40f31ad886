using Gateway.Configuration;
using Gateway.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Ca;

/// <summary>
/// Keeps the built-in CA's CRL current and, when Gateway:Ca:CrlHttpPrefix is set, serves it (and
/// the CA certificate) so partners can check the certificates Gateway issued: GET /ca.crl and
/// GET /ca.crt under that prefix. Read-only, no other paths; the files are read per request, so a
/// revocation by `gateway ca revoke` is served at once. A CRL is valid for 7 days
/// (<see cref="RevocationListFile.NextUpdateAfter"/>): it is signed again at start and every day,
/// so a partner never finds it stale while the gateway runs, even when nothing is revoked.
/// </summary>
public sealed partial class CrlPublisherService(IOptions<GatewayOptions> options, IServiceProvider services, TimeProvider time, ILogger<CrlPublisherService> logger, HttpLimits? limits = null)
    : BackgroundService
{
    /// <summary>Well inside the 7 days a CRL is valid: six publications may fail before partners see a stale one.</summary>
    public static readonly TimeSpan RepublishEvery = TimeSpan.FromDays(1);

    // Resolved only when the CA is on: without it (and its password) the CA cannot be constructed.
    private BuiltInCertificateAuthority _ca = null!;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Ca;
        if (!settings.Enabled) return;
        _ca = services.GetRequiredService<BuiltInCertificateAuthority>();
        var serving = !string.IsNullOrEmpty(settings.CrlHttpPrefix);
        // Made before the first publication, so a day that passes during it still ticks.
        using var timer = new PeriodicTimer(RepublishEvery, time);
        // Serving creates the CA at start (there must be a ca.crt to serve); otherwise a CA not
        // created yet is left for its first sender, so `gateway ca import` can still come first.
        await PublishAsync(createCa: serving, stoppingToken);
        var listening = serving ? ServeAsync(settings.CrlHttpPrefix!, stoppingToken) : Task.CompletedTask;
        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken)) await PublishAsync(createCa: false, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        await listening;
    }

    /// <summary>A CRL that cannot be signed is logged and tried again the next day; it never stops the gateway's mail.</summary>
    private async Task PublishAsync(bool createCa, CancellationToken stoppingToken)
    {
        if (!createCa && !_ca.Exists) return;
        try
        {
            await _ca.PublishCrlAsync(stoppingToken);
            LogPublished(_ca.CrlFile);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            LogPublishFailed(_ca.CrlFile, e.Message);
        }
    }

    // A port that cannot be bound is said at once: this task is awaited only at the stop, and
    // partners would find no CRL without a word. Any Host is answered: relying parties fetch the CRL
    // by whatever name the certificates' distribution points carry, and it is public anyway.
    private Task ServeAsync(string prefix, CancellationToken stoppingToken) =>
        ReadOnlyHttpServer.RunAsync(prefix, limits ?? HttpLimits.Default, allowedHosts: null, AnswerAsync, LogAnswerFailed, reason => LogCannotServe(prefix, reason), () => LogServing(prefix), stoppingToken);

    private async Task<HttpAnswer> AnswerAsync(string name, CancellationToken cancellationToken)
    {
        var (file, type) = name switch
        {
            "ca.crl" => (_ca.CrlFile, "application/pkix-crl"),
            "ca.crt" => (Path.Combine(Path.GetDirectoryName(_ca.CrlFile)!, "ca.crt"), "application/pkix-cert"),
            _ => (null, null),
        };
        if (file is null || !File.Exists(file)) return HttpAnswer.NotFound;
        var bytes = await File.ReadAllBytesAsync(file, cancellationToken);
        if (name == "ca.crt") bytes = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(bytes)).RawData; // DER, as AIA caIssuers expects
        return HttpAnswer.Ok(type!, bytes);
    }

    [LoggerMessage(EventId = 7009, Level = LogLevel.Error, Message = "Cannot serve the CRL on {Prefix}: {Reason}; partners cannot fetch it until this is fixed and Gateway restarted (the CRL file is still signed daily)")]
    private partial void LogCannotServe(string prefix, string reason);

    [LoggerMessage(EventId = 7008, Level = LogLevel.Warning, Message = "A request for the CRL or the CA certificate failed; answered 500")]
    private partial void LogAnswerFailed(Exception exception);

    [LoggerMessage(EventId = 7004, Level = LogLevel.Debug, Message = "CRL signed again: {File}")]
    private partial void LogPublished(string file);

    [LoggerMessage(EventId = 7005, Level = LogLevel.Error, Message = "The CA's CRL {File} could not be signed again (tried again in a day, or run gateway ca crl): {Reason}")]
    private partial void LogPublishFailed(string file, string reason);

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Serving the CA's CRL and certificate on {Prefix}")]
    private partial void LogServing(string prefix);
}
