using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Certificates;

/// <summary>
/// The LDAP source over TLS against a real slapd (ldaps:// and StartTLS) whose certificate a
/// private CA issued: found when that CA is trusted (Ldap:TrustedCertificates), and a failure,
/// never an unverified answer, when it is not, or when the certificate names another host.
/// </summary>
public sealed class LdapTlsTests : IAsyncLifetime
{
    private readonly TestPki _pki = TestPki.Create();
    private readonly string _folder = Directory.CreateTempSubdirectory("gw-ldaptls-").FullName;
    private TlsServerPki _tls = null!;
    private SlapdInstance _slapd = null!;
    private TestIdentity _bob = null!;

    public async Task InitializeAsync()
    {
        _tls = TlsServerPki.Write(Path.Combine(_folder, "server"));
        _slapd = await SlapdInstance.StartAsync(new SlapdTls(_tls.CertificatePath, _tls.KeyPath));
        _bob = _pki.Issue("bob@partner.test");
        await _slapd.AddPersonAsync("bob", "bob@partner.test", [_bob.PublicCertificate]);
    }

    public async Task DisposeAsync()
    {
        await _slapd.DisposeAsync();
        _pki.Dispose();
        Directory.Delete(_folder, recursive: true);
    }

    private static Task<CertificateLookup> FindBobAsync(string url, string? trusted, bool startTls = false, string? bindDn = null) =>
        new LdapCertificateSource(new LdapDirectoryOptions
        {
            Name = "tls", Url = url, StartTls = startTls, TrustedCertificates = trusted,
            BindDn = bindDn, BindPassword = bindDn is null ? null : SlapdInstance.AdminPassword,
            BaseDn = SlapdInstance.People, Filter = "(mail={0})", Timeout = TimeSpan.FromSeconds(5),
        }, NullLogger<LdapCertificateSource>.Instance).FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None).AsTask();

    [Fact]
    public async Task Ldaps_WithTheDirectorysCaTrusted_FindsTheCertificate()
    {
        var lookup = await FindBobAsync(_slapd.LdapsUrl, _tls.CaFolder);

        Assert.False(lookup.Failed, lookup.TemporaryFailure);
        Assert.Equal(_bob.Certificate.Thumbprint, Assert.Single(lookup.Candidates).Certificate.Thumbprint);
    }

    [Fact]
    public async Task StartTls_WithTheDirectorysCaTrusted_FindsTheCertificate()
    {
        var lookup = await FindBobAsync(_slapd.Url, _tls.CaFolder, startTls: true);

        Assert.False(lookup.Failed, lookup.TemporaryFailure);
        Assert.Equal(_bob.Certificate.Thumbprint, Assert.Single(lookup.Candidates).Certificate.Thumbprint);
    }

    [Fact]
    public async Task ACaNotTrusted_IsATemporaryFailure_NotAnAnswer_ForLdapsAndStartTls_AndWithTheSystemsCas()
    {
        var other = TlsServerPki.Write(Path.Combine(_folder, "other"));

        // With a service account: a StartTLS that failed quietly would bind with it in clear, and succeed.
        var ldaps = await FindBobAsync(_slapd.LdapsUrl, other.CaFolder, bindDn: SlapdInstance.AdminDn);
        var startTls = await FindBobAsync(_slapd.Url, other.CaFolder, startTls: true, bindDn: SlapdInstance.AdminDn);
        var system = await FindBobAsync(_slapd.LdapsUrl, trusted: null); // the private CA is not among the system's
        var trustedAgain = await FindBobAsync(_slapd.LdapsUrl, _tls.CaFolder); // each connection its own trust

        Assert.True(ldaps.Failed);
        Assert.Empty(ldaps.Candidates);
        Assert.True(startTls.Failed);
        Assert.True(system.Failed);
        Assert.False(trustedAgain.Failed, trustedAgain.TemporaryFailure);
        Assert.DoesNotContain("Invalid Credentials", startTls.TemporaryFailure, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task StartTls_WithADirectoryThatRefusesAnonymousBinds_BindsWithTheServiceAccountAfterTls()
    {
        await using var strict = await SlapdInstance.StartAsync(new SlapdTls(_tls.CertificatePath, _tls.KeyPath, "disallow bind_anon"));
        await strict.AddPersonAsync("bob", "bob@partner.test", [_bob.PublicCertificate]);

        var lookup = await FindBobAsync(strict.Url, _tls.CaFolder, startTls: true, bindDn: SlapdInstance.AdminDn);

        Assert.False(lookup.Failed, lookup.TemporaryFailure);
        Assert.Equal(_bob.Certificate.Thumbprint, Assert.Single(lookup.Candidates).Certificate.Thumbprint);
    }

    [Fact]
    public async Task ACertificateForAnotherHost_IsATemporaryFailure_EvenFromATrustedCa()
    {
        var elsewhere = TlsServerPki.Write(Path.Combine(_folder, "elsewhere"), ipAddress: null, dnsName: "ldap.example.test");
        await using var slapd = await SlapdInstance.StartAsync(new SlapdTls(elsewhere.CertificatePath, elsewhere.KeyPath));
        await slapd.AddPersonAsync("bob", "bob@partner.test", [_bob.PublicCertificate]);

        var lookup = await FindBobAsync(slapd.LdapsUrl, elsewhere.CaFolder);

        Assert.True(lookup.Failed, "an ldaps:// answer from a certificate that does not name 127.0.0.1 was taken");
    }
}
