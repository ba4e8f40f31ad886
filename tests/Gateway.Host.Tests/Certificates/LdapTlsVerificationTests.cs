using Gateway.Certificates;

namespace Gateway.Tests.Certificates;

/// <summary>libldap settings that would leave a directory's TLS certificate unverified stop the start (LdapTlsVerification).</summary>
public sealed class LdapTlsVerificationTests
{
    [Theory]
    [InlineData("never", null, "LDAPTLS_REQCERT=never in the environment")]
    [InlineData(" Allow ", null, "LDAPTLS_REQCERT=Allow in the environment")]
    [InlineData(null, "BASE dc=example\nTLS_REQCERT\ttry\n", "TLS_REQCERT try in /etc/ldap/ldap.conf")]
    [InlineData("demand", "TLS_REQCERT never", "TLS_REQCERT never in /etc/ldap/ldap.conf")]
    public void AWeakSetting_IsNamed(string? environment, string? configuration, string expected) =>
        Assert.Equal(expected, LdapTlsVerification.Weakened(environment, configuration, "/etc/ldap/ldap.conf"));

    [Theory]
    [InlineData(null, null)]
    [InlineData("demand", "TLS_REQCERT hard")]
    [InlineData(null, "TLS_CACERT /etc/ssl/certs/ca-certificates.crt\n#TLS_REQCERT never\n")]
    public void VerifyingSettings_PassUnremarked(string? environment, string? configuration) =>
        Assert.Null(LdapTlsVerification.Weakened(environment, configuration, "/etc/ldap/ldap.conf"));
}
