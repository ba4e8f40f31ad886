using System.Security.Cryptography.X509Certificates;
using Gateway.Cli;
using Gateway.Tests.Configuration;

namespace Gateway.Tests.Ca;

/// <summary>
/// `gateway certs list` shows the built-in CA's identities, read from the certificates kept beside
/// the keys, so no key is decrypted to list them; revoked ones are left out, and identities of an
/// older version (no certificate file yet) are counted, and get one when first used.
/// </summary>
public sealed class IssuedCertificatesListTests : IDisposable
{
    private readonly CaFixture _fixture = new();

    public void Dispose() => _fixture.Dispose();

    public IssuedCertificatesListTests() => _fixture.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";

    private async Task<string> ListAsync()
    {
        var config = SettingsFile.Write(Path.Combine(_fixture.Root, "appsettings.json"), _fixture.Settings);
        var (output, error) = (new StringWriter(), new StringWriter());
        var exit = await CertsListCommand.ExecuteAsync(config, null, json: false, output, error);
        Assert.True(exit == 0, output + error.ToString());
        return output.ToString();
    }

    [Fact]
    public async Task IssuedIdentities_AreListedWithoutTheirKeys_RevokedOnesLeftOut()
    {
        var ca = _fixture.Authority();
        var frank = await ca.IssueAsync("frank@example.test", "test", CancellationToken.None);
        await ca.IssueAsync("grace@example.test", "test", CancellationToken.None);
        await ca.RevokeAsync("grace@example.test", X509RevocationReason.KeyCompromise, CancellationToken.None);
        Assert.True(File.Exists(Path.ChangeExtension(frank.File, ".crt")));

        var listed = await ListAsync();

        Assert.Contains($"frank@example.test  signing  ca:{frank.Serial}", listed);
        Assert.Contains(listed.Split('\n'), l => l.Contains($"ca:{frank.Serial}") && l.TrimEnd().EndsWith("usable"));
        Assert.DoesNotContain("grace@example.test", listed);

        // An identity issued before the certificate files: counted, then listed once the gateway has decrypted it.
        File.Delete(Path.ChangeExtension(frank.File, ".crt"));
        Assert.Contains("1 identity issued by an older version", await ListAsync());
        Assert.NotEmpty(_fixture.Authority().IssuedTo("frank@example.test"));
        Assert.Contains($"ca:{frank.Serial}", await ListAsync());
    }
}
