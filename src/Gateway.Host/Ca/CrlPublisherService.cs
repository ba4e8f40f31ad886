using System.Net;
using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Ca;

/// <summary>
/// Serves the built-in CA's CRL (and its certificate) over HTTP when Gateway:Ca:CrlHttpPrefix is
/// set, so partners can check the certificates Gateway issued: GET /ca.crl and GET /ca.crt under
/// that prefix. Read-only, no other paths; the files are read per request, so a revocation by
/// `gateway ca revoke` is served at once.
/// </summary>
public sealed partial class CrlPublisherService(IOptions<GatewayOptions> options, IServiceProvider services, ILogger<CrlPublisherService> logger) : BackgroundService
{
    // Resolved only when the CA is on: without it (and its password) the CA cannot be constructed.
    private BuiltInCertificateAuthority _ca = null!;

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var settings = options.Value.Ca;
        if (!settings.Enabled || string.IsNullOrEmpty(settings.CrlHttpPrefix)) return;
        _ca = services.GetRequiredService<BuiltInCertificateAuthority>();
        if (!File.Exists(_ca.CrlFile)) await _ca.PublishCrlAsync(stoppingToken);
        using var listener = new HttpListener();
        listener.Prefixes.Add(settings.CrlHttpPrefix);
        listener.Start();
        LogServing(settings.CrlHttpPrefix);
        using var registration = stoppingToken.Register(listener.Stop);
        while (!stoppingToken.IsCancellationRequested)
        {
            HttpListenerContext context;
            try
            {
                context = await listener.GetContextAsync();
            }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException)
            {
                return;
            }
            await AnswerAsync(context);
        }
    }

    private async Task AnswerAsync(HttpListenerContext context)
    {
        using var response = context.Response;
        var name = context.Request.Url?.AbsolutePath.TrimEnd('/').Split('/').LastOrDefault();
        var (file, type) = name switch
        {
            "ca.crl" => (_ca.CrlFile, "application/pkix-crl"),
            "ca.crt" => (Path.Combine(Path.GetDirectoryName(_ca.CrlFile)!, "ca.crt"), "application/pkix-cert"),
            _ => (null, null),
        };
        if (context.Request.HttpMethod != "GET" || file is null || !File.Exists(file))
        {
            response.StatusCode = 404;
            return;
        }
        var bytes = await File.ReadAllBytesAsync(file);
        if (name == "ca.crt") bytes = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(System.Text.Encoding.ASCII.GetString(bytes)).RawData; // DER, as AIA caIssuers expects
        response.ContentType = type;
        response.ContentLength64 = bytes.Length;
        await response.OutputStream.WriteAsync(bytes);
    }

    [LoggerMessage(EventId = 7001, Level = LogLevel.Information, Message = "Serving the CA's CRL and certificate on {Prefix}")]
    private partial void LogServing(string prefix);
}
