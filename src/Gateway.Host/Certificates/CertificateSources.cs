using Gateway.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Certificates;

/// <summary>Turns Gateway:Certificates:Sources into the ordered list of sources the resolver asks.</summary>
public static class CertificateSources
{
    public static IReadOnlyList<ICertificateSource> Build(IServiceProvider services)
    {
        var settings = services.GetRequiredService<IOptions<GatewayOptions>>().Value.Certificates;
        var sources = new List<ICertificateSource>();
        foreach (var name in settings.EffectiveSources)
        {
            switch (name.ToLowerInvariant())
            {
                case "local":
                    sources.Add(services.GetRequiredService<LocalCertificateStore>());
                    break;
                case "cache":
                    sources.Add(new CacheCertificateSource(services.GetRequiredService<CertificateCache>()));
                    break;
                case "ldap":
                    var logger = services.GetRequiredService<ILogger<LdapCertificateSource>>();
                    var cache = services.GetRequiredService<CertificateCache>();
                    var time = services.GetRequiredService<TimeProvider>();
                    sources.AddRange(settings.Ldap.Select(d => new RememberingCertificateSource(new LdapCertificateSource(d, logger, time), cache)));
                    break;
                case "harvested":
                    sources.Add(new HarvestedCertificateSource(services.GetRequiredService<CertificateCache>()));
                    break;
            }
        }
        return sources;
    }
}
