using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Tests.Ca;

/// <summary>
/// <c>gateway ca import</c> and <c>gateway ca issue ADDRESS</c> given wrong input: a clear
/// message and exit 1, never a stack trace, and nothing written.
/// </summary>
public sealed class CaCommandLineTests : IDisposable
{
    private readonly CaFixture _ca = new();

    public CaCommandLineTests() => _ca.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";

    public void Dispose() => _ca.Dispose();

    private string FileIn(string name) => Path.Combine(_ca.Root, name);

    private bool CaWritten => File.Exists(Path.Combine(_ca.CaPath, "ca.p12"));

    private static void RefusedWithAMessage(Gateway.Tests.Cli.GatewayCli.Result result, string expected)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        Assert.Contains(expected, result.Error);
        Assert.DoesNotContain("   at ", result.Error + result.Output);
    }

    /// <summary>An unencrypted company CA as PEM files: ca.crt and ca.key.</summary>
    private void WriteCompanyCa()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=Company CA", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        using var ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        File.WriteAllText(FileIn("ca.crt"), ca.ExportCertificatePem());
        File.WriteAllText(FileIn("ca.key"), key.ExportPkcs8PrivateKeyPem());
    }

    [Fact]
    public async Task ImportWithAPasswordFileThatDoesNotExist_Fails_InsteadOfImportingWithoutAPassword()
    {
        WriteCompanyCa();

        var import = await _ca.CliAsync("ca", "import", "--certificate", FileIn("ca.crt"), "--key", FileIn("ca.key"), "--password-file", FileIn("missing.pw"));

        RefusedWithAMessage(import, $"--password-file: file '{FileIn("missing.pw")}' does not exist");
        Assert.False(CaWritten);
    }

    [Fact]
    public async Task ImportOfAFileThatDoesNotExist_SaysSo()
    {
        var password = _ca.WriteFile("p12.pw", "secret\n");

        var pkcs12 = await _ca.CliAsync("ca", "import", "--pkcs12", FileIn("missing.p12"), "--password-file", password);
        var pem = await _ca.CliAsync("ca", "import", "--certificate", FileIn("missing.crt"), "--key", FileIn("missing.key"));

        RefusedWithAMessage(pkcs12, $"{FileIn("missing.p12")}: file does not exist");
        RefusedWithAMessage(pem, $"{FileIn("missing.crt")}: file does not exist");
        Assert.False(CaWritten);
    }

    [Theory]
    [InlineData("not-an-address")]
    [InlineData("frank@")]
    [InlineData("fränk@example.test")]
    public async Task IssueForSomethingThatIsNotAnAddress_IsRefused(string address)
    {
        var issue = await _ca.CliAsync("ca", "issue", address);

        RefusedWithAMessage(issue, $"'{address}' is not a mail address");
        Assert.False(Directory.Exists(Path.Combine(_ca.CaPath, "identities")));
    }

    [Fact]
    public async Task IssueForASenderWhoIsNotEligible_IsRefused_UnlessForced()
    {
        var refused = await _ca.CliAsync("ca", "issue", "mallory@elsewhere.test");
        var forced = await _ca.CliAsync("ca", "issue", "mallory@elsewhere.test", "--force");

        RefusedWithAMessage(refused, "mallory@elsewhere.test is not eligible");
        Assert.Contains("--force", refused.Error);
        Assert.True(forced.ExitCode == 0, forced.ToString());
        Assert.Contains("issued mallory@elsewhere.test", forced.Output);
        Assert.Contains(File.ReadLines(_ca.World.AuditPath), l => l.Contains("\"certificate-issued\"", StringComparison.Ordinal) && l.Contains("--force", StringComparison.Ordinal));
    }
}
