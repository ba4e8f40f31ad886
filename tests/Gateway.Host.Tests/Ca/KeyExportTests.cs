using System.Security.Cryptography;
using Gateway.Ca;
using Gateway.Testing;
using Gateway.Testing.Peers;

namespace Gateway.Tests.Ca;

/// <summary>
/// After a renewal, mail that openssl encrypted to the old certificate and mail encrypted to the
/// new one both decrypt with keys taken (by openssl) from the one PKCS#12 that
/// <c>gateway ca export</c> wrote, which holds the user's keys and no CA key.
/// </summary>
public sealed class KeyExportTests : IDisposable
{
    private const string ExportPassword = "export-secret-1";
    private readonly CaFixture _ca = new();

    public KeyExportTests() => _ca.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";

    public void Dispose() => _ca.Dispose();

    private string FileIn(string name) => Path.Combine(_ca.Root, name);

    private async Task<(IssuedIdentity Old, IssuedIdentity New)> RenewedAsync()
    {
        var authority = _ca.Authority();
        var directory = _ca.Enrolling(authority, _ca.Eligibility());
        Assert.True((await directory.FindSignerAsync("frank@example.test", CancellationToken.None)).Found);
        _ca.Time.Advance(TimeSpan.FromDays(340));
        Assert.True((await directory.FindSignerAsync("frank@example.test", CancellationToken.None)).Found);
        var identities = authority.IssuedTo("frank@example.test").OrderBy(i => i.Certificate.NotBefore).ToList();
        Assert.Equal(2, identities.Count);
        return (identities[0], identities[1]);
    }

    private async Task<string> EncryptToAsync(IssuedIdentity identity, string secret)
    {
        var certificate = FileIn($"{identity.Serial}.crt");
        await File.WriteAllTextAsync(certificate, identity.Certificate.ExportCertificatePem());
        var entity = FileIn("entity.mime");
        await File.WriteAllTextAsync(entity, $"Content-Type: text/plain\r\n\r\n{secret}\r\n");
        var eml = FileIn($"to-{identity.Serial}.eml");
        var encrypted = await OpenSslCms.EncryptAsync(entity, eml, [certificate]);
        Assert.True(encrypted.Success, encrypted.Stderr);
        return eml;
    }

    /// <summary>Every private key in the export, each in its own PEM file, as openssl reads them out.</summary>
    private async Task<IReadOnlyList<string>> KeysFromExportAsync(string export, string passwordFile)
    {
        var keys = await ToolProcess.RunAsync("openssl", ["pkcs12", "-in", export, "-passin", "file:" + passwordFile, "-nocerts", "-nodes"]);
        Assert.True(keys.Succeeded, keys.Stderr);
        var text = keys.Stdout;
        var files = new List<string>();
        while (PemEncoding.TryFind(text, out var pem))
        {
            var file = FileIn($"key-{files.Count}.pem");
            await File.WriteAllTextAsync(file, text[pem.Location]);
            files.Add(file);
            text = text[pem.Location.End..];
        }
        return files;
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task AfterARenewal_MailToTheOldAndToTheNewCertificate_DecryptsWithKeysFromTheExport()
    {
        var (old, renewed) = await RenewedAsync();
        var toOld = await EncryptToAsync(old, "Encrypted to the first certificate.");
        var toNew = await EncryptToAsync(renewed, "Encrypted to the renewed certificate.");
        var passwordFile = _ca.WriteFile("export.pw", ExportPassword + "\n");

        var export = await _ca.CliAsync("ca", "export", "frank@example.test", "--out", FileIn("frank.p12"), "--password-file", passwordFile);

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains("exported 2 keys of frank@example.test", export.Output);
        Assert.DoesNotContain(ExportPassword, export.Output + export.Error);
        Assert.DoesNotContain("PRIVATE KEY", export.Output + export.Error);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(FileIn("frank.p12")));
        var keys = await KeysFromExportAsync(FileIn("frank.p12"), passwordFile);
        Assert.Equal(2, keys.Count); // frank's two keys, never the CA's

        foreach (var (eml, identity, secret) in new[] { (toOld, old, "first certificate"), (toNew, renewed, "renewed certificate") })
        {
            var results = new List<OpenSslResult>();
            foreach (var key in keys) results.Add(await OpenSslCms.DecryptAsync(eml, FileIn($"{identity.Serial}.crt"), key));
            var decrypted = Assert.Single(results, r => r.Success);
            Assert.Contains(secret, decrypted.ContentText);
        }
    }

    [Fact]
    public async Task RevokedKeys_AreExportedToo_BecauseOlderMailStillNeedsThem()
    {
        var (old, _) = await RenewedAsync();
        await _ca.Authority().RevokeAsync(old.Serial, System.Security.Cryptography.X509Certificates.X509RevocationReason.Superseded, CancellationToken.None);
        var passwordFile = _ca.WriteFile("export.pw", ExportPassword + "\n");

        var export = await _ca.CliAsync("ca", "export", "frank@example.test", "--out", FileIn("frank.p12"), "--password-file", passwordFile);

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Contains($"serial {old.Serial}, valid until", export.Output);
        Assert.Contains(", revoked", export.Output);
        Assert.Equal(2, (await KeysFromExportAsync(FileIn("frank.p12"), passwordFile)).Count);
    }

    [Fact]
    public async Task WithoutAPasswordFile_OrForAnAddressWithoutCertificates_NothingIsWritten()
    {
        await RenewedAsync();

        var noPassword = await _ca.CliAsync("ca", "export", "frank@example.test", "--out", FileIn("frank.p12"));
        var nobody = await _ca.CliAsync("ca", "export", "nobody@example.test", "--out", FileIn("nobody.p12"), "--password-file", _ca.WriteFile("export.pw", ExportPassword));

        Assert.Equal(1, noPassword.ExitCode);
        Assert.Contains("Option '--password-file' is required", noPassword.Error);
        Assert.False(File.Exists(FileIn("frank.p12")));
        Assert.Equal(1, nobody.ExitCode);
        Assert.Contains("no certificate was ever issued to nobody@example.test", nobody.Error);
        Assert.False(File.Exists(FileIn("nobody.p12")));
    }

    [Fact]
    public async Task ExportOverAnExistingFile_IsRefused_AndTheFileIsKept()
    {
        // --out var/ca/ca.p12 replaced the CA key file with a bundle that holds no CA key.
        await RenewedAsync();
        var existing = _ca.WriteFile("ca.p12", "the CA key file");

        var result = await _ca.CliAsync("ca", "export", "frank@example.test", "--out", existing, "--password-file", _ca.WriteFile("export.pw", ExportPassword));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"ca export: {Path.GetFullPath(existing)} exists", result.Error);
        Assert.Equal("the CA key file", await File.ReadAllTextAsync(existing));
    }

    [Fact]
    public async Task ExportToAPlaceThatCannotBeWritten_SaysSo_WithoutAStackTrace()
    {
        await RenewedAsync();
        var notAFolder = _ca.WriteFile("not-a-folder", "x");

        var result = await _ca.CliAsync("ca", "export", "frank@example.test", "--out", Path.Combine(notAFolder, "frank.p12"), "--password-file", _ca.WriteFile("export.pw", ExportPassword));

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("ca export: nothing written:", result.Error);
        Assert.DoesNotContain("   at ", result.Error);
    }

    [Fact]
    public async Task AnExportOfSixKeys_LoadsInDotNetWithItsDefaultLimits_AndInOpenSsl()
    {
        _ca.Settings["Gateway:Ca:KeyType"] = "EcdsaP256"; // six keys quickly; the file's layout does not depend on the key type
        var authority = _ca.Authority();
        for (var i = 0; i < 6; i++) await authority.IssueAsync("frank@example.test", "re-keyed", CancellationToken.None);
        var file = FileIn("frank.p12");

        IdentityExport.Write(authority, "frank@example.test", file, ExportPassword);

        var loaded = System.Security.Cryptography.X509Certificates.X509CertificateLoader.LoadPkcs12Collection(await File.ReadAllBytesAsync(file), ExportPassword);
        Assert.Equal(6, loaded.Count(c => c.HasPrivateKey));
        var passwordFile = _ca.WriteFile("export.pw", ExportPassword + "\n");
        Assert.Equal(6, (await KeysFromExportAsync(file, passwordFile)).Count);
    }
}
