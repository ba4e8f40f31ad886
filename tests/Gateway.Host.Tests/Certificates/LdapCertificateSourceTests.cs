using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Certificates;

/// <summary>The LDAP source against a real slapd on loopback: what it finds, what it must not find, and how it fails.</summary>
public sealed class LdapCertificateSourceTests : IAsyncLifetime
{
    private readonly TestPki _pki = TestPki.Create();
    private SlapdInstance _slapd = null!;
    private TestIdentity _bob = null!;
    private TestIdentity _carol = null!;

    public async Task InitializeAsync()
    {
        _slapd = await SlapdInstance.StartAsync();
        _bob = _pki.Issue("bob@partner.test");
        _carol = _pki.Issue("carol@partner.test");
        await _slapd.AddPersonAsync("bob", "bob@partner.test", [_bob.PublicCertificate]);
        // carol publishes a PKCS#7 certs-only blob with her certificate and the root above it.
        var blob = new X509Certificate2Collection(new[] { _carol.PublicCertificate, _pki.Root.Certificate }).Export(X509ContentType.Pkcs7)!;
        await _slapd.AddPersonAsync("carol", "carol@partner.test", userSmimeCertificate: blob);
        await _slapd.AddPersonAsync("nocert", "nocert@partner.test");
    }

    public async Task DisposeAsync()
    {
        await _slapd.DisposeAsync();
        _pki.Dispose();
    }

    private LdapCertificateSource Source(string? url = null, TimeSpan? timeout = null) => new(new LdapDirectoryOptions
    {
        Name = "test",
        Url = url ?? _slapd.Url,
        BaseDn = SlapdInstance.People,
        Filter = "(mail={0})",
        Timeout = timeout ?? TimeSpan.FromSeconds(5),
    }, NullLogger<LdapCertificateSource>.Instance);

    [Fact]
    public async Task UserCertificateBinary_IsFound_AndNamesItsDirectory()
    {
        var lookup = await Source().FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None);

        Assert.False(lookup.Failed, lookup.TemporaryFailure);
        var candidate = Assert.Single(lookup.Candidates);
        Assert.Equal(_bob.Certificate.Thumbprint, candidate.Certificate.Thumbprint);
        Assert.Equal("ldap:test", candidate.Source);
    }

    [Fact]
    public async Task UserSmimeCertificateBlob_YieldsTheEndEntity_NotTheCaCertificates()
    {
        var lookup = await Source().FindAsync("carol@partner.test", CertificateUsage.Encryption, CancellationToken.None);

        var candidate = Assert.Single(lookup.Candidates);
        Assert.Equal(_carol.Certificate.Thumbprint, candidate.Certificate.Thumbprint);
    }

    [Theory]
    [InlineData("*)(mail=*")]
    [InlineData("*")]
    [InlineData("bob@partner.test)(mail=*")]
    [InlineData("*@partner.test")]
    public async Task FilterInjectionAttempts_FindNothing(string address)
    {
        var lookup = await Source().FindAsync(address, CertificateUsage.Encryption, CancellationToken.None);

        Assert.False(lookup.Failed, lookup.TemporaryFailure);
        Assert.Empty(lookup.Candidates);
    }

    [Fact]
    public async Task AnEntryWithoutCertificate_AndAnUnknownAddress_AreAnswersOfNone_NotFailures()
    {
        var none = await Source().FindAsync("nocert@partner.test", CertificateUsage.Encryption, CancellationToken.None);
        var unknown = await Source().FindAsync("nobody@partner.test", CertificateUsage.Encryption, CancellationToken.None);

        Assert.False(none.Failed);
        Assert.Empty(none.Candidates);
        Assert.False(unknown.Failed);
        Assert.Empty(unknown.Candidates);
    }

    [Fact]
    public async Task AStoppedDirectory_IsATemporaryFailure()
    {
        await _slapd.StopAsync();

        var lookup = await Source().FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None);

        Assert.True(lookup.Failed);
        Assert.Contains("LDAP error", lookup.TemporaryFailure);
    }

    [Fact]
    public async Task ADirectoryThatAcceptsButNeverAnswers_IsATemporaryFailure_WithinItsTimeout()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // the kernel completes the handshake; nobody ever reads or answers
        var url = $"ldap://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}";
        var clock = Stopwatch.StartNew();

        var lookup = await Source(url, TimeSpan.FromSeconds(1)).FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None);

        Assert.True(lookup.Failed);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }
}
