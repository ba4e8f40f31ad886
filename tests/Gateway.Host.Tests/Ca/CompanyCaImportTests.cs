using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Ca;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Gateway.Tests.Ca;

/// <summary>
/// An existing company PKI, made by openssl (root and a subordinate mail CA), becomes Gateway's
/// issuer through <c>gateway ca import</c>; what Gateway then issues chains to the company root
/// by openssl's own judgement.
/// </summary>
public sealed class CompanyCaImportTests : IDisposable
{
    private readonly CaFixture _ca = new();

    public CompanyCaImportTests() => _ca.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";

    public void Dispose() => _ca.Dispose();

    private string FileIn(string name) => Path.Combine(_ca.Root, name);

    private async Task OpenSslAsync(params string[] arguments)
    {
        var result = await ToolProcess.RunAsync("openssl", arguments, workingDirectory: _ca.Root);
        Assert.True(result.Succeeded, result.Stdout + result.Stderr);
    }

    /// <summary>root.crt/root.key (self-signed) and sub.crt/sub.key (its subordinate CA), all by openssl.</summary>
    private async Task CompanyPkiAsync()
    {
        await OpenSslAsync("req", "-x509", "-newkey", "rsa:3072", "-nodes", "-keyout", FileIn("root.key"), "-out", FileIn("root.crt"), "-days", "3650",
            "-subj", "/O=Example Corp/CN=Example Corp Root CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign");
        await OpenSslAsync("req", "-newkey", "rsa:3072", "-nodes", "-keyout", FileIn("sub.key"), "-out", FileIn("sub.csr"), "-subj", "/O=Example Corp/CN=Example Corp Mail CA");
        var extensions = _ca.WriteFile("sub.ext", "basicConstraints=critical,CA:TRUE,pathlen:0\nkeyUsage=critical,keyCertSign,cRLSign\nsubjectKeyIdentifier=hash\nauthorityKeyIdentifier=keyid\n");
        await OpenSslAsync("x509", "-req", "-in", FileIn("sub.csr"), "-CA", FileIn("root.crt"), "-CAkey", FileIn("root.key"), "-set_serial", "0x5a17c0ffee",
            "-days", "1825", "-sha256", "-extfile", extensions, "-out", FileIn("sub.crt"));
        _ca.WriteFile("p12.pw", "company-p12-secret\n");
    }

    [Fact]
    public async Task ImportedSubordinateCa_IssuesCertificates_ThatOpenSslVerifiesUpToTheCompanyRoot()
    {
        await CompanyPkiAsync();
        await OpenSslAsync("pkcs12", "-export", "-inkey", FileIn("sub.key"), "-in", FileIn("sub.crt"), "-certfile", FileIn("root.crt"),
            "-out", FileIn("sub.p12"), "-passout", "file:" + FileIn("p12.pw"));

        var imported = await _ca.CliAsync("ca", "import", "--pkcs12", FileIn("sub.p12"), "--password-file", FileIn("p12.pw"));
        Assert.True(imported.ExitCode == 0, imported.ToString());
        Assert.Contains("imported CN=Example Corp Mail CA, O=Example Corp", imported.Output);
        Assert.Contains("a subordinate CA under CN=Example Corp Root CA, O=Example Corp", imported.Output);
        Assert.DoesNotContain("company-p12-secret", imported.Output + imported.Error);

        var issued = await _ca.CliAsync("ca", "issue", "frank@example.test");
        Assert.True(issued.ExitCode == 0, issued.ToString());
        var authority = _ca.Authority();
        var frank = Assert.Single(authority.IssuedTo("frank@example.test"));
        await File.WriteAllTextAsync(FileIn("frank.pem"), frank.Certificate.ExportCertificatePem());
        foreach (var purpose in new[] { "smimesign", "smimeencrypt" })
            await OpenSslAsync("verify", "-x509_strict", "-purpose", purpose, "-untrusted", FileIn("sub.crt"), "-CAfile", FileIn("root.crt"), FileIn("frank.pem"));

        Assert.Equal(["CN=Example Corp Mail CA, O=Example Corp", "CN=Example Corp Root CA, O=Example Corp"], authority.Chain.Select(c => c.Subject));
        Assert.StartsWith("builtIn (CN=Example Corp Mail CA", authority.Name);
        // Signed mail carries the subordinate CA, so a partner who trusts only the root can verify it.
        var current = new CertificateEnrolment(authority, _ca.Options(), TimeProvider.System, _ca.Audit, NullLogger<CertificateEnrolment>.Instance).Current("frank@example.test");
        Assert.True(current.Found, current.Reason);
        Assert.Contains(current.ChainWithoutRoot, c => c.Subject.Contains("Example Corp Mail CA", StringComparison.Ordinal));
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task ImportedCaKey_IsStoredEncryptedWithTheCaPassword_LikeAGeneratedOne()
    {
        await CompanyPkiAsync();
        _ca.WriteFile("chain.pem", await File.ReadAllTextAsync(FileIn("sub.crt")) + await File.ReadAllTextAsync(FileIn("root.crt")));

        var imported = await _ca.CliAsync("ca", "import", "--certificate", FileIn("chain.pem"), "--key", FileIn("sub.key"));

        Assert.True(imported.ExitCode == 0, imported.ToString());
        var caFile = Path.Combine(_ca.CaPath, "ca.p12");
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(caFile));
        Assert.ThrowsAny<CryptographicException>(() => X509CertificateLoader.LoadPkcs12FromFile(caFile, "wrong"));
        var stored = X509CertificateLoader.LoadPkcs12CollectionFromFile(caFile, CaFixture.CaPassword);
        Assert.Equal(2, stored.Count);
        Assert.True(Assert.Single(stored, c => c.HasPrivateKey).Subject.Contains("Mail CA", StringComparison.Ordinal));
        Assert.Contains("Example Corp Mail CA", X509Certificate2.CreateFromPem(await File.ReadAllTextAsync(Path.Combine(_ca.CaPath, "ca.crt"))).Subject);
        Assert.Contains(File.ReadLines(_ca.World.AuditPath), line => line.Contains("\"event\":\"ca-imported\"", StringComparison.Ordinal) && line.Contains("Example Corp Mail CA", StringComparison.Ordinal));
    }

    [Fact]
    public async Task AnEndEntityCertificate_OrASecondImport_IsRefused_AndNothingIsWritten()
    {
        await CompanyPkiAsync();
        await OpenSslAsync("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", FileIn("leaf.key"), "-out", FileIn("leaf.crt"), "-days", "30",
            "-subj", "/CN=not a ca", "-addext", "basicConstraints=critical,CA:FALSE");

        var leaf = await _ca.CliAsync("ca", "import", "--certificate", FileIn("leaf.crt"), "--key", FileIn("leaf.key"));
        Assert.Equal(1, leaf.ExitCode);
        Assert.Contains("not a CA certificate", leaf.Error);
        Assert.False(File.Exists(Path.Combine(_ca.CaPath, "ca.p12")));

        Assert.Equal(0, (await _ca.CliAsync("ca", "import", "--certificate", FileIn("sub.crt"), "--key", FileIn("sub.key"))).ExitCode);
        var before = await File.ReadAllBytesAsync(Path.Combine(_ca.CaPath, "ca.p12"));
        var again = await _ca.CliAsync("ca", "import", "--certificate", FileIn("root.crt"), "--key", FileIn("root.key"));
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("exists already", again.Error);
        Assert.Equal(before, await File.ReadAllBytesAsync(Path.Combine(_ca.CaPath, "ca.p12")));
    }

    [Theory]
    [InlineData("P-384", "ecdsa-with-SHA384")]
    [InlineData("P-521", "ecdsa-with-SHA512")]
    public async Task ImportedEcCa_SignsCertificatesAndTheCrl_WithTheHashItsCurveCalls(string curve, string algorithm)
    {
        await OpenSslAsync("req", "-x509", "-newkey", "ec", "-pkeyopt", $"ec_paramgen_curve:{curve}", "-nodes", "-keyout", FileIn("ec.key"), "-out", FileIn("ec.crt"),
            "-days", "3650", "-subj", "/O=Example Corp/CN=Example Corp EC Mail CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign,cRLSign", "-addext", "subjectKeyIdentifier=hash");
        _ca.Time.SetUtcNow(DateTimeOffset.UtcNow); // openssl's CA begins now, after the fixture's clock was made
        var imported = new CompanyCaImport(_ca.Options().Value.Ca, _ca.Time).FromPem(FileIn("ec.crt"), FileIn("ec.key"), null);
        Assert.True(imported.Imported, string.Join("; ", imported.Problems));

        var authority = _ca.Authority();
        var frank = await authority.IssueAsync("frank@example.test", "test", CancellationToken.None);
        await authority.RevokeAsync("frank@example.test", X509RevocationReason.Superseded, CancellationToken.None);

        await File.WriteAllTextAsync(FileIn("frank.pem"), frank.Certificate.ExportCertificatePem());
        var certificate = await ToolProcess.RunAsync("openssl", ["x509", "-in", FileIn("frank.pem"), "-noout", "-text"]);
        Assert.Contains($"Signature Algorithm: {algorithm}", certificate.Stdout);
        Assert.Contains($"Signature Algorithm: {algorithm}", await RevocationListTests.CrlTextAsync(Path.Combine(_ca.CaPath, "ca.crl")));
        await OpenSslAsync("verify", "-x509_strict", "-purpose", "smimesign", "-CAfile", FileIn("ec.crt"), FileIn("frank.pem"));
    }

    [Theory]
    [InlineData("rsa:2048", "keyUsage=critical,keyCertSign", "key usage does not allow signing CRLs (cRLSign)")]
    [InlineData("ec", "keyUsage=critical,keyCertSign,cRLSign", "the S/MIME BR allow P-256, P-384 and P-521 only")]
    [InlineData("rsa:2048", "extendedKeyUsage=serverAuth", "extended key usage does not allow emailProtection")]
    public async Task ACaUnfitForSmime_IsRefused_NamingTheFileAndTheReason_AndNothingIsWritten(string key, string extension, string problem)
    {
        string[] curve = key == "ec" ? ["-pkeyopt", "ec_paramgen_curve:secp256k1"] : [];
        string[] keyUsage = extension.StartsWith("keyUsage", StringComparison.Ordinal) ? [] : ["-addext", "keyUsage=critical,keyCertSign,cRLSign"];
        await OpenSslAsync(["req", "-x509", "-newkey", key, .. curve, "-nodes", "-keyout", FileIn("unfit.key"), "-out", FileIn("unfit.crt"), "-days", "3650",
            "-subj", "/CN=Unfit CA", "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "subjectKeyIdentifier=hash", .. keyUsage, "-addext", extension]);

        var refused = await _ca.CliAsync("ca", "import", "--certificate", FileIn("unfit.crt"), "--key", FileIn("unfit.key"));

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains(FileIn("unfit.crt"), refused.Error);
        Assert.True(refused.Error.Contains(problem, StringComparison.Ordinal), refused.Error);
        Assert.False(File.Exists(Path.Combine(_ca.CaPath, "ca.p12")));
    }

    [Fact]
    public async Task ACaCopiedInByHandThatCannotSignCrls_RevokesNothing_AndSaysWhy()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=No CRL CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        Directory.CreateDirectory(_ca.CaPath);
        await File.WriteAllBytesAsync(Path.Combine(_ca.CaPath, "ca.p12"), ca.ExportPkcs12(IssuedIdentityStore.KeyProtection, CaFixture.CaPassword));
        await _ca.Authority().IssueAsync("frank@example.test", "test", CancellationToken.None);

        var revoke = await _ca.CliAsync("ca", "revoke", "frank@example.test");

        Assert.Equal(1, revoke.ExitCode);
        Assert.Contains("cRLSign", revoke.Error);
        Assert.DoesNotContain("   at ", revoke.Error); // a message, not a stack trace
        Assert.False(File.Exists(Path.Combine(_ca.CaPath, "revoked.json")));
        Assert.Empty(_ca.Authority().RevokedSerials());
    }
}
