using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Gateway.Testing;
using Gateway.Testing.Peers;
using Gateway.Testing.Pki;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Interop;

/// <summary>
/// A sender with a dual-key identity, as company PKIs issue them: one certificate that only signs
/// (its PKCS#12 in the folder) and one to encrypt to. The signature names the encryption
/// certificate for replies and carries it, so a partner's client encrypts its answers to a key
/// that can decrypt them; OpenSSL and gpgsm still verify it, and a partner's gateway harvests the
/// encryption certificate from it.
/// </summary>
public sealed class DualKeySenderTests : IDisposable
{
    private const string Dana = "dana@example.test";
    private readonly GatewayWorld _world = new();
    private readonly TestIdentity _signing;
    private readonly TestIdentity _encryption;

    public DualKeySenderTests()
    {
        _signing = _world.Pki.Issue(Dana, new CertificateOptions { KeyUsage = X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation });
        _encryption = _world.Pki.Issue(Dana, new CertificateOptions { KeyUsage = X509KeyUsageFlags.KeyEncipherment });
        _signing.WriteTo(_world.Certificates, GatewayWorld.Pkcs12Password);
        // Gateway decrypts inbound mail for its users (Harvest:Decrypt is on by default with the endpoint).
        _world.Settings["Gateway:Harvest:Enabled"] = "true";
        _world.Settings["Gateway:Harvest:Port"] = "0";
        _world.Settings["Gateway:Harvest:UpstreamHost"] = "127.0.0.1";
        _world.Settings["Gateway:Harvest:UpstreamPort"] = "25";
    }

    public void Dispose()
    {
        _signing.Dispose();
        _encryption.Dispose();
        _world.Dispose();
    }

    private async Task<string> SendSignedOnlyAsync(string subject)
    {
        await using var gateway = await RunningGateway.StartAsync(_world);
        await gateway.SendAsync(RunningGateway.NewMessage(Dana, "dave@elsewhere.test", subject, "Answer me encrypted, please."), Dana, "dave@elsewhere.test");
        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        Assert.Equal(_signing.Certificate.Thumbprint, delivered.GetProperty("signerCertificate").GetString());
        // The encryption identity is in use for replies, not a rejected signer.
        var decision = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "decision", "dave@elsewhere.test"));
        Assert.DoesNotContain(_encryption.Certificate.Thumbprint, decision.ToString());
        return _world.OutboxFileOf(delivered);
    }

    /// <param name="asIdentity">The encryption key in the folder as a PKCS#12 (Gateway decrypts the replies: Harvest:Decrypt), or only its certificate.</param>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SignatureNamesAndCarriesTheEncryptionCertificate_AndVerifiesWithOpenSslAndGpgsm(bool asIdentity)
    {
        if (asIdentity)
        {
            var identity = Path.Combine(_world.Certificates, "dana-encryption.p12");
            File.WriteAllBytes(identity, _encryption.ExportPkcs12(GatewayWorld.Pkcs12Password));
            OwnerOnly.Apply(identity);
        }
        else File.WriteAllText(Path.Combine(_world.Certificates, "dana-encryption.crt"), _encryption.CertificatePem);

        var eml = await SendSignedOnlyAsync("dual key");

        var verified = await OpenSslCms.VerifyAsync(eml, _world.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);
        await using var gpgsm = await Gpgsm.CreateAsync(_world.CaCertificatePath);
        var byGpgsm = await gpgsm.VerifyDetachedAsync(eml);
        Assert.True(byGpgsm.GoodSignature && byGpgsm.Trusted, byGpgsm.Status + byGpgsm.Stderr);

        var structure = await OpenSslCms.CmsPrintAsync(eml);
        Assert.True(structure.Success, structure.Stderr);
        Assert.Contains("id-smime-aa-encrypKeyPref", structure.Stdout);
        Assert.Contains("1.3.6.1.4.1.311.16.4", structure.Stdout);
        // AES-GCM and RSA-OAEP are offered for replies only when Gateway holds the key they go to:
        // the user's own client (a .crt here) may not read them.
        Assert.Equal(asIdentity, structure.Stdout.Contains("rsaesOaep", StringComparison.Ordinal));
        Assert.Equal(asIdentity, structure.Stdout.Contains("aes-256-gcm", StringComparison.Ordinal));

        var harvested = SignatureHarvester.Harvest(await File.ReadAllBytesAsync(eml), new TrustContext(new X509Certificate2Collection(_world.Pki.Root.Certificate), new X509Certificate2Collection(), TimeProvider.System));
        Assert.True(harvested.Accepted, string.Join("; ", harvested.Problems));
        Assert.Equal([_encryption.Certificate.Thumbprint], harvested.EncryptionCertificates.Select(c => c.Thumbprint));
    }

    [Fact]
    public async Task WithoutAnEncryptionCertificate_TheSignatureNamesNoneForReplies()
    {
        var eml = await SendSignedOnlyAsync("signing key only");

        var verified = await OpenSslCms.VerifyAsync(eml, _world.CaCertificatePath);
        Assert.True(verified.Success, verified.Stderr);
        var structure = await OpenSslCms.CmsPrintAsync(eml);
        Assert.True(structure.Success, structure.Stderr);
        Assert.DoesNotContain("id-smime-aa-encrypKeyPref", structure.Stdout);
        Assert.DoesNotContain("1.3.6.1.4.1.311.16.4", structure.Stdout);
        Assert.Contains("signingTime", structure.Stdout); // the attributes were printed
    }
}
