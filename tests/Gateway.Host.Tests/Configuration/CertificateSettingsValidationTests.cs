using Gateway.Cli;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Configuration;

/// <summary>Bad certificate-source settings stop <c>gateway run</c> with exit 1 and the key named.</summary>
public sealed class CertificateSettingsValidationTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    private Task<(int ExitCode, string Error)> RunWithAsync(Dictionary<string, string?> changes)
    {
        var settings = new Dictionary<string, string?>(_world.Settings);
        foreach (var (key, value) in changes) settings[key] = value;
        return RefusedStart.RunAsync(_world.Root, settings);
    }

    [Fact]
    public async Task BadLdapDirectorySettings_ExitWith1_NamingEachKey()
    {
        var (exit, error) = await RunWithAsync(new()
        {
            ["Gateway:Certificates:Ldap:0:Url"] = "http://ldap.example.test",
            ["Gateway:Certificates:Ldap:0:BaseDn"] = "",
            ["Gateway:Certificates:Ldap:0:Filter"] = "(mail=bob)",
            ["Gateway:Certificates:Ldap:0:Timout"] = "00:00:05",
        });

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Certificates:Ldap:0:Url: 'http://ldap.example.test' is not an ldap:// or ldaps:// URL", error);
        Assert.Contains("Gateway:Certificates:Ldap:0:BaseDn must not be empty", error);
        Assert.Contains("Gateway:Certificates:Ldap:0:Filter: '(mail=bob)' must contain {0}", error);
        Assert.Contains("Gateway:Certificates:Ldap:0:Timout: unknown setting", error);
    }

    [Fact]
    public async Task LdapTrustedCertificates_MustBeAFolder_AndOnlyForTls()
    {
        var (exit, error) = await RunWithAsync(new()
        {
            ["Gateway:Certificates:Ldap:0:Url"] = "ldap://ldap.example.test",
            ["Gateway:Certificates:Ldap:0:BaseDn"] = "ou=people,dc=example,dc=test",
            ["Gateway:Certificates:Ldap:0:TrustedCertificates"] = _world.Certificates,
            ["Gateway:Certificates:Ldap:1:Url"] = "ldaps://ldap.example.test",
            ["Gateway:Certificates:Ldap:1:BaseDn"] = "ou=people,dc=example,dc=test",
            ["Gateway:Certificates:Ldap:1:TrustedCertificates"] = Path.Combine(_world.Root, "no-such-folder"),
            ["Gateway:Certificates:MaxEncryptionCertificates"] = "0",
        });

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Certificates:Ldap:0:TrustedCertificates applies to TLS: use ldaps:// or StartTls", error);
        Assert.Contains($"Gateway:Certificates:Ldap:1:TrustedCertificates: folder '{Path.Combine(_world.Root, "no-such-folder")}' does not exist", error);
        Assert.Contains("Gateway:Certificates:MaxEncryptionCertificates must be between 1", error);
    }

    [Fact]
    public async Task AnUnknownSourceName_ExitsWith1_ListingTheKnownOnes()
    {
        var (exit, error) = await RunWithAsync(new() { ["Gateway:Certificates:Sources:0"] = "local", ["Gateway:Certificates:Sources:1"] = "dns" });

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Certificates:Sources: 'dns' is not a source (known: local, cache, ldap, harvested)", error);
    }

    [Fact]
    public void ConfiguredSources_ReplaceTheDefaultOrder_InsteadOfBeingAppended()
    {
        var settings = new Dictionary<string, string?>(_world.Settings) { ["Gateway:Certificates:Sources:0"] = "ldap", ["Gateway:Certificates:Sources:1"] = "local" };
        using var host = GatewayHostFactory.Build(SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings));

        var options = Microsoft.Extensions.DependencyInjection.ServiceProviderServiceExtensions
            .GetRequiredService<Microsoft.Extensions.Options.IOptions<Gateway.Configuration.GatewayOptions>>(host.Services).Value;

        Assert.Equal(["ldap", "local"], options.Certificates.EffectiveSources);
    }
}
