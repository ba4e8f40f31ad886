using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;
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

    private LdapCertificateSource Source(string? url = null, TimeSpan? timeout = null, TimeProvider? time = null) => new(new LdapDirectoryOptions
    {
        Name = "test",
        Url = url ?? _slapd.Url,
        BaseDn = SlapdInstance.People,
        Filter = "(mail={0})",
        Timeout = timeout ?? TimeSpan.FromSeconds(5),
    }, NullLogger<LdapCertificateSource>.Instance, time);

    /// <summary>
    /// A directory that failed is left alone for three timeouts: the next lookups fail at once
    /// (a message to many recipients does not wait a timeout for each), then it is asked again.
    /// </summary>
    [Fact]
    public async Task ADirectoryThatFailed_IsNotAskedAgainForThreeTimeouts_ThenItIs()
    {
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start(); // the kernel completes the handshake; nobody ever reads or answers
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var source = Source($"ldap://127.0.0.1:{((IPEndPoint)silent.LocalEndpoint).Port}", TimeSpan.FromSeconds(1), clock);
        var accepted = new List<TcpClient>();
        int Connections()
        {
            var count = 0;
            while (silent.Pending()) { accepted.Add(silent.AcceptTcpClient()); count++; }
            return count;
        }

        var first = await source.FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None);
        var askedFirst = Connections();
        var second = await source.FindAsync("carol@partner.test", CertificateUsage.Encryption, CancellationToken.None);
        var askedSecond = Connections();
        clock.Advance(TimeSpan.FromSeconds(3.1));
        var third = await source.FindAsync("carol@partner.test", CertificateUsage.Encryption, CancellationToken.None);
        var askedThird = Connections();
        accepted.ForEach(c => c.Dispose());

        Assert.True(first.Failed && second.Failed && third.Failed);
        Assert.True(askedFirst >= 1, "the first lookup did not connect");
        Assert.Equal(0, askedSecond);
        Assert.Contains("not asked again until", second.TemporaryFailure);
        Assert.True(askedThird >= 1, "the directory was not asked again after the quiet time");
        Assert.DoesNotContain("not asked again until", third.TemporaryFailure);
    }

    /// <summary>Past its lookup grace a message decides on "unavailable" (plaintext under ifPossible): a directory that just failed is asked all the same.</summary>
    [Fact]
    public async Task FreshLookups_AskADirectoryThatJustFailed()
    {
        var source = Source(time: new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow));
        await _slapd.StopAsync();
        Assert.True((await source.FindAsync("carol@partner.test", CertificateUsage.Encryption, CancellationToken.None)).Failed);
        await _slapd.StartAgainAsync();

        CertificateLookup fresh;
        using (FreshLookups.Begin())
            fresh = await source.FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None);

        Assert.False(fresh.Failed, fresh.TemporaryFailure);
        Assert.Equal(_bob.Certificate.Thumbprint, Assert.Single(fresh.Candidates).Certificate.Thumbprint);
    }

    [Fact]
    public async Task ADirectoryBackFromAnOutage_IsAskedOnceTheQuietTimeIsOver()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var source = Source(time: clock);
        await _slapd.StopAsync();
        Assert.True((await source.FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None)).Failed);
        await _slapd.StartAgainAsync();
        var tooSoon = await source.FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None);
        clock.Advance(TimeSpan.FromSeconds(15.1));

        var found = await source.FindAsync("bob@partner.test", CertificateUsage.Encryption, CancellationToken.None);

        Assert.True(tooSoon.Failed);
        Assert.False(found.Failed, found.TemporaryFailure);
        Assert.Equal(_bob.Certificate.Thumbprint, Assert.Single(found.Candidates).Certificate.Thumbprint);
    }

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

    /// <summary>
    /// .NET's bind has no timeout of its own on Linux: against a directory that never answers it
    /// held its thread for good, and each lookup after an outage's quiet time left one more behind.
    /// </summary>
    [Fact]
    public async Task OpeningASilentDirectory_GivesUpAfterItsTimeout_AndFreesItsThread()
    {
        using var silent = new SilentServer();
        var settings = new LdapDirectoryOptions { Url = $"ldap://127.0.0.1:{silent.Port}", BaseDn = SlapdInstance.People, Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();

        var open = BlockingNetworkCall.RunAsync(() => LdapConnections.Open(settings), CancellationToken.None);
        var ended = await Task.WhenAny(open, Task.Delay(TimeSpan.FromSeconds(20))) == open;

        Assert.True(ended, "the bind to a silent directory was still waiting after 20 s");
        var failure = await Assert.ThrowsAsync<System.DirectoryServices.Protocols.LdapException>(() => open);
        Assert.Equal("no answer within 00:00:01", LdapConnections.Failure(failure, settings));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    /// <summary>
    /// Lookups queued behind the searches of a directory that then fails take that failure for
    /// their answer: a message to 8 of its recipients waits one timeout, not two rounds of them.
    /// </summary>
    [Fact]
    public async Task LookupsQueuedBehindSearchesThatFail_FailWithThem_WithoutAskingTheDirectory()
    {
        using var silent = new SilentServer();
        var source = Source($"ldap://127.0.0.1:{silent.Port}", TimeSpan.FromSeconds(1));

        var lookups = await Task.WhenAll(Enumerable.Range(0, 8).Select(i => source.FindAsync($"r{i}@partner.test", CertificateUsage.Encryption, CancellationToken.None).AsTask()));

        Assert.All(lookups, l => Assert.True(l.Failed));
        Assert.Equal(4, silent.Connections); // the 4 searches a directory gets at once, and no second round
        Assert.Equal(4, lookups.Count(l => l.TemporaryFailure!.Contains("not asked again until", StringComparison.Ordinal)));
    }

    /// <summary>
    /// A connect that a firewall drops (here: a listener whose queue is full, so the kernel drops
    /// the SYN) waited for the kernel's retries, minutes; OpenLDAP's network timeout ends it.
    /// </summary>
    [Fact]
    public async Task AConnectThatIsDropped_GivesUpAfterTheDirectorysTimeout()
    {
        using var full = new TcpListener(IPAddress.Loopback, 0);
        full.Start(backlog: 1);
        var port = ((IPEndPoint)full.LocalEndpoint).Port;
        var fillers = new List<TcpClient>();
        for (var i = 0; i < 4; i++)
        {
            var filler = new TcpClient();
            _ = filler.ConnectAsync(IPAddress.Loopback, port);
            fillers.Add(filler);
        }
        await Task.Delay(200);
        var settings = new LdapDirectoryOptions { Url = $"ldap://127.0.0.1:{port}", BaseDn = SlapdInstance.People, Timeout = TimeSpan.FromSeconds(1) };
        var clock = Stopwatch.StartNew();

        var open = BlockingNetworkCall.RunAsync(() => LdapConnections.Open(settings), CancellationToken.None);
        var ended = await Task.WhenAny(open, Task.Delay(TimeSpan.FromSeconds(20))) == open;
        fillers.ForEach(f => f.Dispose());

        Assert.True(ended, "the connect to a directory that drops it was still waiting after 20 s");
        await Assert.ThrowsAsync<System.DirectoryServices.Protocols.LdapException>(() => open);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"took {clock.Elapsed}");
    }

    /// <summary>
    /// An ldaps:// handshake that never ends (libldap 2.5 does TLS blocking, with no timeout) holds
    /// its thread until the server lets go. Each round of lookups after the quiet time used to
    /// leave 4 more of them; the 4 threads a directory gets stay the only ones.
    /// </summary>
    [Fact]
    public async Task ADirectoryWhoseCallsNeverReturn_HoldsFourThreads_NotFourMoreEachRound()
    {
        using var silent = new SilentServer();
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        var source = Source($"ldaps://127.0.0.1:{silent.Port}", TimeSpan.FromSeconds(1), clock);

        var lookups = new List<CertificateLookup>();
        for (var round = 0; round < 3; round++)
        {
            lookups.AddRange(await Task.WhenAll(Enumerable.Range(0, 8).Select(i => source.FindAsync($"r{round}-{i}@partner.test", CertificateUsage.Encryption, CancellationToken.None).AsTask())));
            clock.Advance(TimeSpan.FromSeconds(3.1)); // past the quiet time: the directory is asked again
        }

        Assert.All(lookups, l => Assert.True(l.Failed));
        Assert.Equal(4, silent.Connections);
        Assert.Contains(lookups, l => l.TemporaryFailure!.Contains("searches are all still waiting", StringComparison.Ordinal));
    }
}
