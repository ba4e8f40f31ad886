using Gateway.Certificates;
using Gateway.Configuration;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Certificates;

/// <summary>
/// A partner at an internationalised domain: a certificate names it in the ASCII form (an
/// rfc822Name is IA5String), a directory's mail attribute too, while mail may name it in either
/// form. Every source finds the certificate for both.
/// </summary>
public sealed class InternationalDomainLookupTests : IDisposable
{
    private const string Ascii = "dora@xn--bcher-kva.example";
    private const string Unicode = "dora@bücher.example";
    private readonly GatewayWorld _world = new();
    private readonly FakeTimeProvider _time = new(DateTimeOffset.UtcNow);

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _world.Dispose();
    }

    private CertificateCache NewCache(string path) => new(Options.Create(new GatewayOptions
    {
        Certificates = { Cache = { Path = path, PositiveTtl = TimeSpan.FromDays(1), NegativeTtl = TimeSpan.FromHours(1) } },
    }), _time);

    [Theory]
    [InlineData(Unicode)]
    [InlineData(Ascii)]
    [InlineData("dora@BÜCHER.example")]
    public async Task ACertificateInTheFolder_IsFoundForEitherIdnForm(string recipient)
    {
        using var dora = _world.Pki.Issue(Ascii);
        File.WriteAllText(Path.Combine(_world.Certificates, "dora.crt"), dora.CertificatePem);
        await using var gateway = await RunningGateway.StartAsync(_world);
        var directory = gateway.Services.GetRequiredService<ICertificateDirectory>();

        var choice = await directory.FindRecipientAsync(recipient, CancellationToken.None);

        Assert.True(choice.Found, choice.Reason + " " + string.Join("; ", choice.Rejected));
        Assert.Equal(dora.Certificate.Thumbprint, choice.Selected!.Certificate.Thumbprint);
    }

    [Fact]
    public async Task AHarvestedCertificate_IsFoundForEitherIdnForm_AndRowsKeyedTheOldWayAreMovedToTheNewKey()
    {
        using var dora = _world.Pki.Issue(Ascii);
        var path = Path.Combine(_world.Root, "cache.db");
        NewCache(path).RememberFound(Unicode, HarvestedCertificateSource.SourceName, [dora.PublicCertificate]);
        var source = new HarvestedCertificateSource(NewCache(path));
        Assert.Single((await source.FindAsync(Ascii, CertificateUsage.Encryption, CancellationToken.None)).Candidates);
        Assert.Single((await source.FindAsync(Unicode, CertificateUsage.Encryption, CancellationToken.None)).Candidates);

        // A cache written before the keys took the ASCII form holds the Unicode one.
        using (var connection = new SqliteConnection($"Data Source={path}"))
        {
            connection.Open();
            using var command = connection.CreateCommand();
            command.CommandText = "UPDATE certificates SET address = 'dora@bücher.example'";
            Assert.Equal(1, command.ExecuteNonQuery());
        }
        SqliteConnection.ClearAllPools();
        var reopened = new HarvestedCertificateSource(NewCache(path));
        Assert.Single((await reopened.FindAsync(Ascii, CertificateUsage.Encryption, CancellationToken.None)).Candidates);
        Assert.Single(NewCache(path).All());
    }

    [Fact]
    public async Task ADirectoryStoringTheAsciiForm_AnswersForMailAddressedInTheUnicodeForm()
    {
        await using var slapd = await SlapdInstance.StartAsync();
        using var dora = _world.Pki.Issue(Ascii);
        await slapd.AddPersonAsync("dora", Ascii, [dora.PublicCertificate]);
        var source = new LdapCertificateSource(new LdapDirectoryOptions
        {
            Name = "test", Url = slapd.Url, BaseDn = SlapdInstance.People, Filter = "(mail={0})", Timeout = TimeSpan.FromSeconds(5),
        }, NullLogger<LdapCertificateSource>.Instance);

        foreach (var recipient in new[] { Unicode, Ascii })
        {
            var lookup = await source.FindAsync(recipient, CertificateUsage.Encryption, CancellationToken.None);
            Assert.False(lookup.Failed, lookup.TemporaryFailure);
            Assert.Equal(dora.Certificate.Thumbprint, Assert.Single(lookup.Candidates).Certificate.Thumbprint);
        }
    }
}
