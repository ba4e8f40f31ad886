using Gateway.Audit;
using Gateway.Ca;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Policy;
using Gateway.Relay;
using Gateway.Smtp;
using Gateway.Spool;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway;

public static class GatewayServiceCollectionExtensions
{
    /// <summary>All of Gateway's wiring. Order of hosted services matters: the spool recovers before the listener accepts.</summary>
    public static IServiceCollection AddGateway(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<GatewayOptions>()
            .Bind(configuration.GetSection(GatewayOptions.Section))
            .ValidateOnStart();
        services.AddSingleton<IValidateOptions<GatewayOptions>>(new UnknownSettingsValidator(configuration));
        services.AddSingleton<IValidateOptions<GatewayOptions>, GatewayOptionsValidator>();

        services.AddSingleton(TimeProvider.System);
        services.AddSingleton<JsonLinesAuditLog>();
        // Every audit line is counted for the metrics endpoint on its way to the file.
        services.AddSingleton(sp => new Gateway.Metrics.CountingAuditLog(sp.GetRequiredService<JsonLinesAuditLog>()));
        services.AddSingleton<IAuditLog>(sp => sp.GetRequiredService<Gateway.Metrics.CountingAuditLog>());
        services.AddSingleton<PolicyProvider>();
        services.AddSingleton<SigningIdentityWarnings>();
        services.AddSingleton<LocalCertificateStore>();
        services.AddSingleton<CertificateCache>();
        services.AddSingleton<BuiltInCertificateAuthority>();
        // Ca:Issuer picks the implementation; the validator has already refused unknown names.
        services.AddSingleton<ICertificateIssuer>(sp => sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Ca.Issuer switch
        {
            BuiltInCertificateAuthority.IssuerName => sp.GetRequiredService<BuiltInCertificateAuthority>(),
            var other => throw new InvalidOperationException($"Gateway:Ca:Issuer: '{other}' is not an issuer"),
        });
        services.AddSingleton<SenderEligibility>();
        services.AddSingleton<CertificateEnrolment>();
        services.AddSingleton(sp => new HeldIdentities(sp.GetRequiredService<LocalCertificateStore>(),
            sp.GetRequiredService<IOptions<GatewayOptions>>().Value.Ca.Enabled ? sp.GetRequiredService<ICertificateIssuer>() : null));
        services.AddSingleton(sp =>
        {
            var trust = sp.GetRequiredService<LocalCertificateStore>().Trust;
            var options = sp.GetRequiredService<IOptions<GatewayOptions>>();
            IRevocationChecker? revocation = options.Value.Certificates.Revocation.Mode == RevocationMode.Off ? null : new ChainRevocationChecker(options, trust, sp.GetRequiredService<ILogger<ChainRevocationChecker>>());
            return new CertificateResolver(CertificateSources.Build(sp), trust, revocation, options.Value.Certificates.MaxEncryptionCertificates,
                sp.GetRequiredService<HeldIdentities>());
        });
        services.AddSingleton<ICertificateDirectory>(sp => sp.GetRequiredService<CachedCertificateDirectory>());
        services.AddSingleton(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GatewayOptions>>();
            var time = sp.GetRequiredService<TimeProvider>();
            ICertificateDirectory directory = new AdvertisedCapabilitiesDirectory(sp.GetRequiredService<CertificateResolver>(), sp.GetRequiredService<CertificateCache>());
            // Enrolment sits above every source: an identity found anywhere wins over issuing a new one.
            if (options.Value.Ca.Enabled)
                directory = ActivatorUtilities.CreateInstance<EnrollingCertificateDirectory>(sp, directory);
            return new CachedCertificateDirectory(directory, time);
        });
        services.AddSingleton<FileSpool>();
        services.AddSingleton(sp => new TransformSlots(Transforms(sp)));
        services.AddSingleton(sp => new CopyBuffers(Transforms(sp)));
        services.AddSingleton<SpoolOwnership>();
        services.AddSingleton<AcceptJournal>();
        services.AddSingleton<SpoolQueue>();
        services.AddSingleton<SpoolControl>();
        services.AddSingleton<SpoolAdministration>();
        services.AddSingleton<RetrySchedule>();
        services.AddSingleton<CopyDelivery>();
        services.AddSingleton<BounceSender>();
        services.AddSingleton<MessagePlanner>();
        services.AddSingleton<MessageProcessor>();
        services.AddSingleton<ClientNetworks>();
        services.AddSingleton<SmtpRelay>();
        services.AddSingleton<IRelay>(sp =>
        {
            var options = sp.GetRequiredService<IOptions<GatewayOptions>>();
            return string.IsNullOrWhiteSpace(options.Value.Relay.Host) ? new OutboxRelay(options) : sp.GetRequiredService<SmtpRelay>();
        });

        services.AddHostedService<PolicyWatcherService>();
        services.AddHostedService<CertificateFolderWatcherService>();
        services.AddHostedService<SpoolWorkerService>();
        services.AddSingleton<HeldForCertificateService>();
        services.AddHostedService(sp => sp.GetRequiredService<HeldForCertificateService>());
        services.AddSingleton<SmtpListenerService>();
        services.AddHostedService(sp => sp.GetRequiredService<SmtpListenerService>());
        services.AddSingleton(Gateway.Http.HttpLimits.Default);
        services.AddHostedService<CrlPublisherService>();
        services.AddHostedService<Gateway.Metrics.MetricsEndpointService>();
        services.AddSingleton<Harvest.HarvestListenerService>();
        services.AddHostedService(sp => sp.GetRequiredService<Harvest.HarvestListenerService>());
        return services;
    }

    /// <summary>Spool:MaxConcurrentTransforms as it applies (<see cref="SpoolOptions.EffectiveTransforms"/>).</summary>
    private static int Transforms(IServiceProvider services)
    {
        var options = services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        return options.Spool.EffectiveTransforms(options.Relay);
    }
}
