using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing.Pki;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Certificates;

/// <summary>The capabilities only choose between AES-GCM and AES-CBC: a cache that cannot be read leaves them unknown, never stops the lookup.</summary>
public sealed class AdvertisedCapabilitiesDirectoryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gw-capabilities-").FullName;
    private readonly TestPki _pki = TestPki.Create();

    public void Dispose()
    {
        _pki.Dispose();
        SqliteConnection.ClearAllPools();
        Directory.Delete(_root, recursive: true);
    }

    private sealed class Found(CertificateCandidate candidate) : ICertificateDirectory
    {
        public ValueTask<CertificateChoice> FindSignerAsync(string address, CancellationToken cancellationToken) => throw new NotSupportedException();
        public ValueTask<CertificateChoice> FindRecipientAsync(string address, CancellationToken cancellationToken) =>
            ValueTask.FromResult(new CertificateChoice(candidate, [], "test", []));
    }

    [Fact]
    public async Task ACacheThatCannotBeRead_LeavesTheCapabilitiesUnknown_AndTheCertificateChosen()
    {
        var path = Path.Combine(_root, "certificates.db");
        var cache = new CertificateCache(Options.Create(new GatewayOptions { Certificates = { Cache = { Path = path } } }), new FakeTimeProvider(DateTimeOffset.UtcNow));
        using var bob = _pki.Issue("bob@partner.test");
        var directory = new AdvertisedCapabilitiesDirectory(new Found(new CertificateCandidate(bob.PublicCertificate, "local:bob.crt")), cache);
        SqliteConnection.ClearAllPools();
        foreach (var file in Directory.GetFiles(_root)) File.WriteAllText(file, "not a database");

        var choice = await directory.FindRecipientAsync("bob@partner.test", CancellationToken.None);

        Assert.Equal(bob.Certificate.Thumbprint, choice.Selected!.Certificate.Thumbprint);
        Assert.Null(choice.Selected.Capabilities);
    }
}
