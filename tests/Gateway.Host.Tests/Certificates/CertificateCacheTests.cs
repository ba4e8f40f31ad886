using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing.Pki;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Certificates;

/// <summary>The persistent SQLite cache: restarts, TTLs, negative answers, concurrency, re-validation.</summary>
public sealed class CertificateCacheTests : IDisposable
{
    private const string Bob = "bob@partner.test";
    private readonly string _root = Directory.CreateTempSubdirectory("gw-cache-").FullName;
    private readonly TestPki _pki = TestPki.Create();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public void Dispose()
    {
        _pki.Dispose();
        Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools(); // release the file before deleting it
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private CertificateCache NewCache() => new(Options.Create(new GatewayOptions
    {
        Certificates = { Cache = { Path = Path.Combine(_root, "sub", "certificates.db"), PositiveTtl = TimeSpan.FromDays(1), NegativeTtl = TimeSpan.FromHours(1) } },
    }), _time);

    private sealed class CountingDirectory(Func<CertificateLookup> answer) : ICertificateSource
    {
        public int Calls;
        public string Name => "ldap:corp";

        public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
        {
            Interlocked.Increment(ref Calls);
            return ValueTask.FromResult(answer());
        }
    }

    [Fact]
    public async Task ACertificateFoundInTheDirectory_SurvivesARestart_AndIsServedUntilThePositiveTtl()
    {
        var bob = _pki.Issue(Bob).PublicCertificate;
        var directory = new CountingDirectory(() => CertificateLookup.Found([new CertificateCandidate(bob, "ldap:corp")]));
        await new RememberingCertificateSource(directory, NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);

        _time.Advance(TimeSpan.FromHours(23));
        var afterRestart = await new CacheCertificateSource(NewCache()).FindAsync(Bob.ToUpperInvariant(), CertificateUsage.Encryption, CancellationToken.None);
        var cached = Assert.Single(afterRestart.Candidates);
        Assert.Equal(bob.Thumbprint, cached.Certificate.Thumbprint);
        Assert.Equal("cache (ldap:corp)", cached.Source);
        var row = Assert.Single(NewCache().All());
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromHours(23), row.Certificate.FirstSeen, TimeSpan.FromMilliseconds(1));

        _time.Advance(TimeSpan.FromHours(2));
        var stale = await new CacheCertificateSource(NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);
        Assert.Empty(stale.Candidates);
    }

    [Fact]
    public async Task ANegativeAnswer_SparesTheDirectoryUntilTheNegativeTtl_ThenItIsAskedAgain()
    {
        var directory = new CountingDirectory(() => CertificateLookup.None);
        var source = new RememberingCertificateSource(directory, NewCache());

        await source.FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);
        _time.Advance(TimeSpan.FromMinutes(59));
        var second = await new RememberingCertificateSource(directory, NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);
        Assert.Equal(1, directory.Calls);
        Assert.Empty(second.Candidates);
        Assert.False(second.Failed);

        _time.Advance(TimeSpan.FromMinutes(2));
        await source.FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);
        Assert.Equal(2, directory.Calls);
    }

    [Fact]
    public async Task ATemporaryFailure_IsNeverRemembered_AsNone()
    {
        var directory = new CountingDirectory(() => CertificateLookup.Unavailable("LDAP server unavailable"));
        var source = new RememberingCertificateSource(directory, NewCache());

        var first = await source.FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);
        var second = await source.FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);

        Assert.True(first.Failed);
        Assert.True(second.Failed);
        Assert.Equal(2, directory.Calls);
    }

    [Fact]
    public async Task TheCacheSource_GivesTheDirectorysLatestAnswer_NotACertificateTakenOutOfItSince()
    {
        var old = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-20) }).PublicCertificate;
        var renewed = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-1) }).PublicCertificate;
        var other = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-2) }).PublicCertificate;
        NewCache().RememberFound(Bob, "ldap:corp", [old, renewed]);
        NewCache().RememberFound(Bob, "ldap:hr", [other]);
        _time.Advance(TimeSpan.FromMinutes(5));
        NewCache().RememberFound(Bob, "ldap:corp", [renewed]); // the old one was taken out of the directory

        var lookup = await new CacheCertificateSource(NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);

        Assert.Equal(
            new[] { renewed.Thumbprint, other.Thumbprint }.Order(),
            lookup.Candidates.Select(c => c.Certificate.Thumbprint).Order());
    }

    [Fact]
    public async Task ADirectoryAnswerOfSeveralCertificates_IsRememberedAsOneAnswer_AllOfItServedFromTheCache()
    {
        var first = _pki.Issue(Bob).PublicCertificate;
        var second = _pki.Issue(Bob).PublicCertificate;
        _time.AutoAdvanceAmount = TimeSpan.FromMilliseconds(5); // the clock moves between any two reads of it, as a real one does
        var directory = new CountingDirectory(() => CertificateLookup.Found([new CertificateCandidate(first, "ldap:corp"), new CertificateCandidate(second, "ldap:corp")]));
        await new RememberingCertificateSource(directory, NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);

        var cached = await new CacheCertificateSource(NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);

        Assert.Equal(new[] { first.Thumbprint, second.Thumbprint }.Order(), cached.Candidates.Select(c => c.Certificate.Thumbprint).Order());
    }

    [Fact]
    public async Task ADirectoryWhoseLatestAnswerWasNone_GivesNoneFromTheCacheEither()
    {
        var bob = _pki.Issue(Bob).PublicCertificate;
        NewCache().RememberFound(Bob, "ldap:corp", [bob]);
        _time.Advance(TimeSpan.FromMinutes(5));
        NewCache().RememberNone(Bob, "ldap:corp"); // every certificate taken out of the directory

        var lookup = await new CacheCertificateSource(NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);

        Assert.Empty(lookup.Candidates);
    }

    [Fact]
    public async Task AHarvest_ReplacesWhatEarlierMessagesOfTheSenderGave()
    {
        var before = _pki.Issue(Bob).PublicCertificate;
        var now = _pki.Issue(Bob).PublicCertificate;
        NewCache().RememberHarvest(new HarvestResult(Bob, before, [], null, []) { EncryptionCertificates = [before] });
        _time.Advance(TimeSpan.FromMinutes(5));
        NewCache().RememberHarvest(new HarvestResult(Bob, now, [], null, []) { EncryptionCertificates = [now] });

        var lookup = await new HarvestedCertificateSource(NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);

        Assert.Equal([now.Thumbprint], lookup.Candidates.Select(c => c.Certificate.Thumbprint));
    }

    /// <summary>
    /// Bob re-keys (a lost device) and his new signed mail replaces O with N; anyone holding an old
    /// signed message of Bob's (a list archive) sends it to the inbound endpoint. It verifies, but
    /// must not put O back: added beside N, every later copy was encrypted to O too.
    /// </summary>
    [Fact]
    public async Task AReplayedOldMessage_NeverPutsBackTheKeyALaterMessageReplaced_NorTouchesImportedFiles()
    {
        var old = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-30) }).PublicCertificate;
        var current = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-2) }).PublicCertificate;
        var imported = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-40) }).PublicCertificate;
        NewCache().RememberFound(Bob, HarvestedCertificateSource.ImportedName, [imported]);
        Assert.Null(NewCache().RememberHarvest(new HarvestResult(Bob, old, [], null, []) { EncryptionCertificates = [old] }));
        _time.Advance(TimeSpan.FromMinutes(5));
        Assert.Null(NewCache().RememberHarvest(new HarvestResult(Bob, current, [], null, []) { EncryptionCertificates = [current] }));
        _time.Advance(TimeSpan.FromMinutes(5));

        var replayed = NewCache().RememberHarvest(new HarvestResult(Bob, old, [], null, []) { EncryptionCertificates = [old] });

        Assert.Equal("a newer certificate of the sender is kept from a later message (this one is old: replayed, or late)", replayed);
        var lookup = await new HarvestedCertificateSource(NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);
        Assert.Equal(new[] { current.Thumbprint, imported.Thumbprint }.Order(), lookup.Candidates.Select(c => c.Certificate.Thumbprint).Order());
        Assert.Equal(HarvestedCertificateSource.ImportedName, lookup.Candidates.Single(c => c.Certificate.Thumbprint == imported.Thumbprint).Source);
    }

    [Fact]
    public async Task AnOldMessageHarvestedLate_StoresNothing_AndTheSendersKeyStays()
    {
        var old = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-30) }).PublicCertificate;
        var current = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-2) }).PublicCertificate;
        NewCache().RememberHarvest(new HarvestResult(Bob, current, [], null, []) { EncryptionCertificates = [current] });
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.NotNull(NewCache().RememberHarvest(new HarvestResult(Bob, old, [], null, []) { EncryptionCertificates = [old] }));

        var lookup = await new HarvestedCertificateSource(NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);
        Assert.Equal([current.Thumbprint], lookup.Candidates.Select(c => c.Certificate.Thumbprint));
    }

    /// <summary>
    /// An old message whose certificate is kept anyway (beside a newer one, as harvests before this
    /// rule left them) only counts as a sighting of it: nothing is added or taken away.
    /// </summary>
    [Fact]
    public void AnOldMessageWhoseCertificateIsKeptBesideANewerOne_OnlyRefreshesItsLastSighting()
    {
        var old = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-30) }).PublicCertificate;
        var current = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-2) }).PublicCertificate;
        NewCache().RememberFound(Bob, HarvestedCertificateSource.SourceName, [old, current]);
        _time.Advance(TimeSpan.FromMinutes(5));

        Assert.Null(NewCache().RememberHarvest(new HarvestResult(Bob, old, [], null, []) { EncryptionCertificates = [old] }));

        var rows = NewCache().All().ToDictionary(r => r.Certificate.Certificate.Thumbprint, r => r.Certificate.LastSeen);
        Assert.Equal(new[] { old.Thumbprint, current.Thumbprint }.Order(), rows.Keys.Order());
        Assert.Equal(_time.GetUtcNow(), rows[old.Thumbprint], TimeSpan.FromMilliseconds(1));
        Assert.Equal(_time.GetUtcNow() - TimeSpan.FromMinutes(5), rows[current.Thumbprint], TimeSpan.FromMilliseconds(1));
    }

    /// <summary>
    /// Two harvests at once, an old message's and a new one's: the old one checked that nothing newer
    /// was kept, the new one was stored, and the old one then replaced it, rolling the key back. The
    /// old harvest is held here at its second reading of the clock (where it stood between the check
    /// and the write) while the new one is stored.
    /// </summary>
    [Fact]
    public async Task AnOldHarvestRacingANewOne_NeverRollsTheSendersKeyBack()
    {
        var old = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-30) }).PublicCertificate;
        var current = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-2) }).PublicCertificate;
        var clock = new PausingClock(_time.GetUtcNow());
        var cache = new CertificateCache(Options.Create(new GatewayOptions { Certificates = { Cache = { Path = Path.Combine(_root, "sub", "certificates.db") } } }), clock);

        var oldHarvest = Task.Factory.StartNew(() =>
        {
            PausingClock.PauseThisThread = true;
            cache.RememberHarvest(new HarvestResult(Bob, old, [], null, []) { EncryptionCertificates = [old] });
        }, TaskCreationOptions.LongRunning);
        clock.Paused.Wait(TimeSpan.FromSeconds(5)); // the fixed cache never stops between its check and its write
        cache.RememberHarvest(new HarvestResult(Bob, current, [], null, []) { EncryptionCertificates = [current] });
        clock.Resume.Set();
        await oldHarvest;

        var lookup = await new HarvestedCertificateSource(NewCache()).FindAsync(Bob, CertificateUsage.Encryption, CancellationToken.None);
        Assert.Contains(current.Thumbprint, lookup.Candidates.Select(c => c.Certificate.Thumbprint));
    }

    /// <summary>A clock that holds the thread marked <see cref="PauseThisThread"/> at its second reading, for up to two seconds.</summary>
    private sealed class PausingClock(DateTimeOffset now) : FakeTimeProvider(now)
    {
        [ThreadStatic] public static bool PauseThisThread;
        [ThreadStatic] private static int _readings;

        public ManualResetEventSlim Paused { get; } = new();
        public ManualResetEventSlim Resume { get; } = new();

        public override DateTimeOffset GetUtcNow()
        {
            if (PauseThisThread && ++_readings == 2)
            {
                Paused.Set();
                Resume.Wait(TimeSpan.FromSeconds(2)); // bounded: were the thread inside a write transaction, the other writer waits for it
            }
            return base.GetUtcNow();
        }
    }

    [Fact]
    public async Task ACachedCertificateThatHasSinceExpired_IsRejectedOnUse_AndTheAuditReasonSaysSo()
    {
        var shortLived = _pki.Issue(Bob, new CertificateOptions { NotBefore = DateTimeOffset.UtcNow.AddDays(-10), NotAfter = DateTimeOffset.UtcNow.AddHours(2) }).PublicCertificate;
        NewCache().RememberFound(Bob, "ldap:corp", [shortLived]);
        var trust = new TrustContext(new X509Certificate2Collection(_pki.Root.Certificate), [], _time);
        var resolver = new CertificateResolver([new CacheCertificateSource(NewCache())], trust);
        Assert.True((await resolver.FindRecipientAsync(Bob, CancellationToken.None)).Found);

        _time.Advance(TimeSpan.FromHours(3)); // still inside the positive TTL, but past notAfter
        var choice = await resolver.FindRecipientAsync(Bob, CancellationToken.None);

        Assert.False(choice.Found);
        var rejected = Assert.Single(choice.Rejected);
        Assert.Contains("from cache (ldap:corp)", rejected);
        Assert.Contains("expired", rejected);
    }

    [Fact]
    public async Task ConcurrentWorkersOnTwoInstances_WriteAndReadWithoutErrors_AndNothingIsLost()
    {
        var certificates = Enumerable.Range(0, 4).Select(i => _pki.Issue($"user{i}@partner.test").PublicCertificate).ToList();
        var caches = new[] { NewCache(), NewCache() };

        await Task.WhenAll(Enumerable.Range(0, 8).Select(worker => Task.Run(() =>
        {
            var cache = caches[worker % 2];
            for (var i = 0; i < 40; i++)
            {
                var certificate = certificates[(worker + i) % certificates.Count];
                var address = $"user{(worker + i) % certificates.Count}@partner.test";
                cache.RememberFound(address, "ldap:corp", [certificate]);
                cache.RememberNone($"nobody{worker}-{i}@partner.test", "ldap:corp");
                Assert.NotEmpty(cache.Find(address, _ => true, null));
                Assert.True(cache.RecentlyHadNone($"nobody{worker}-{i}@partner.test", "ldap:corp"));
            }
        })));

        Assert.Equal(4, NewCache().All().Count);
    }
}
