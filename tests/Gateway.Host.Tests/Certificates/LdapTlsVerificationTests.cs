using Gateway.Certificates;
using Gateway.Tests.Cli;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Certificates;

/// <summary>A libldap setting that would leave a directory's TLS certificate unverified stops the start (LdapTlsVerification).</summary>
public sealed class LdapTlsVerificationTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Theory]
    [InlineData(0, "libldap's TLS_REQCERT is never")]
    [InlineData(3, "libldap's TLS_REQCERT is allow")]
    [InlineData(4, "libldap's TLS_REQCERT is try")]
    [InlineData(1, null)] // hard
    [InlineData(2, null)] // demand
    [InlineData(null, null)]
    public void OnlyLevelsThatDoNotVerify_AreNamed(int? level, string? expected) =>
        Assert.Equal(expected, LdapTlsVerification.Describe(level));

    [Fact]
    public async Task GatewayRun_WithLdapsConfigured_AndLdaptlsReqcertNever_RefusesToStart_NamingIt()
    {
        var settings = new Dictionary<string, string?>(_world.Settings)
        {
            ["Gateway:Certificates:Ldap:0:Url"] = "ldaps://ldap.example.test",
            ["Gateway:Certificates:Ldap:0:BaseDn"] = "ou=people,dc=example,dc=test",
        };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);

        var run = await GatewayCli.RunAsync(_world.Root, new Dictionary<string, string> { ["LDAPTLS_REQCERT"] = "never" }, "run", "--config", config);

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("libldap's TLS_REQCERT is never", run.Error + run.Output);
    }
}
