using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Ca;

namespace Gateway.Tests.Ca;

/// <summary>Certificates made with the profile pass the lint; the lint catches each kind of deviation.</summary>
public sealed class SmimeCertificateProfileTests : IDisposable
{
    private readonly RSA _caKey = RSA.Create(2048);
    private readonly X509Certificate2 _ca;

    public SmimeCertificateProfileTests()
    {
        var request = new CertificateRequest("CN=Profile Test CA, O=Gateway TEST ONLY", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
    }

    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
    }

    private X509Certificate2 Issue(AsymmetricAlgorithm key, string address, int days = 365, Action<CertificateRequest>? tamper = null)
    {
        var request = SmimeCertificateProfile.CreateRequest(address, key);
        var now = DateTimeOffset.UtcNow;
        SmimeCertificateProfile.AddIssuerExtensions(request, _ca, new IssuanceRequest(address, now, now.AddDays(days), "http://ca.example.test/ca.crl", "http://ca.example.test/ca.crt"));
        tamper?.Invoke(request);
        return SmimeCertificateProfile.Sign(request, _ca, now, now.AddDays(days), SmimeCertificateProfile.NewSerialNumber());
    }

    [Fact]
    public void RsaCertificate_FromTheProfile_PassesTheLint_WithSigningAndKeyEnciphermentOnly()
    {
        using var key = RSA.Create(3072);
        using var certificate = Issue(key, "frank@example.test");
        Assert.Empty(CertificateLint.Check(certificate, "frank@example.test"));
        var usage = certificate.Extensions.OfType<X509KeyUsageExtension>().Single();
        Assert.Equal(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, usage.KeyUsages);
        Assert.True(usage.Critical);
    }

    [Fact]
    public void EcCertificate_FromTheProfile_PassesTheLint_WithKeyAgreementInsteadOfKeyEncipherment()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Issue(key, "grace@example.test");
        Assert.Empty(CertificateLint.Check(certificate, "grace@example.test"));
        Assert.Equal(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement, certificate.Extensions.OfType<X509KeyUsageExtension>().Single().KeyUsages);
    }

    [Fact]
    public void SerialNumbers_ArePositive_AndCarryAtLeast64RandomBits()
    {
        var serials = Enumerable.Range(0, 200).Select(_ => SmimeCertificateProfile.NewSerialNumber()).ToList();
        Assert.All(serials, s => Assert.True(s.Length >= 9 && (s[0] & 0x80) == 0));
        Assert.Equal(serials.Count, serials.Select(Convert.ToHexString).Distinct().Count());
    }

    [Fact]
    public void Lint_RejectsAValidityLongerThan825Days()
    {
        using var key = RSA.Create(2048);
        using var certificate = Issue(key, "frank@example.test", days: 900);
        Assert.Contains("validity longer than 825 days", CertificateLint.Check(certificate, "frank@example.test"));
    }

    [Fact]
    public void Lint_RejectsAnyExtendedKeyUsageBesidesEmailProtection()
    {
        using var key = RSA.Create(2048);
        using var certificate = Issue(key, "frank@example.test", tamper: r =>
        {
            var eku = r.CertificateExtensions.OfType<X509EnhancedKeyUsageExtension>().Single();
            r.CertificateExtensions.Remove(eku);
            r.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(SmimeCertificateProfile.EmailProtection), new Oid("1.3.6.1.5.5.7.3.2")], false));
        });
        Assert.Contains(CertificateLint.Check(certificate, "frank@example.test"), p => p.StartsWith("extended key usage must be emailProtection only", StringComparison.Ordinal));
    }

    [Fact]
    public void Lint_RejectsAnAddressThatIsNotTheSubjectAltName()
    {
        using var key = RSA.Create(2048);
        using var certificate = Issue(key, "frank@example.test");
        Assert.Contains("mallory@example.test is not in subjectAltName", CertificateLint.Check(certificate, "mallory@example.test"));
    }

    [Fact]
    public void Lint_RejectsACertificateWithoutTheStrictMailboxPolicy()
    {
        using var key = RSA.Create(2048);
        using var certificate = Issue(key, "frank@example.test", tamper: r =>
            r.CertificateExtensions.Remove(r.CertificateExtensions.Single(e => e.Oid!.Value == "2.5.29.32")));
        Assert.Contains("certificatePolicies must name the mailbox-validated strict policy", CertificateLint.Check(certificate, "frank@example.test"));
    }

    [Fact]
    public void P384Issuer_SignsWithSha384_AndTheLintRejectsSha256FromIt()
    {
        using var caKey = ECDsa.Create(ECCurve.NamedCurves.nistP384);
        var caRequest = new CertificateRequest("CN=P-384 Test CA, O=Gateway TEST ONLY", caKey, HashAlgorithmName.SHA384);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, false));
        using var ca = caRequest.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddYears(5));
        using var key = RSA.Create(2048);
        var now = DateTimeOffset.UtcNow;
        var request = SmimeCertificateProfile.CreateRequest("frank@example.test", key);
        SmimeCertificateProfile.AddIssuerExtensions(request, ca, new IssuanceRequest("frank@example.test", now, now.AddDays(30)));

        using var right = SmimeCertificateProfile.Sign(request, ca, now, now.AddDays(30), SmimeCertificateProfile.NewSerialNumber());
        using var wrong = request.Create(ca.SubjectName, X509SignatureGenerator.CreateForECDsa(caKey), now, now.AddDays(30), SmimeCertificateProfile.NewSerialNumber());

        Assert.Equal("1.2.840.10045.4.3.3", right.SignatureAlgorithm.Value); // ecdsa-with-SHA384
        Assert.Empty(CertificateLint.Check(right, "frank@example.test", ca));
        Assert.Contains(CertificateLint.Check(wrong, "frank@example.test", ca), p => p.StartsWith("signature algorithm", StringComparison.Ordinal) && p.Contains("does not fit the issuer's key", StringComparison.Ordinal));
    }

    [Fact]
    public void AddressAtAnIdnDomain_IsNamedWithItsALabel_InTheSubjectAltName()
    {
        // rfc822Name is IA5String: RFC 5280 §7.5 puts the domain in A-labels (CreateRequest threw before).
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        using var certificate = Issue(key, "joerg@bücher.example");

        Assert.Equal(["joerg@xn--bcher-kva.example"], Gateway.Certificates.SmimeCertificateValidator.EmailAddresses(certificate));
    }

    [Theory]
    [InlineData("jörg@example.test", false)]
    [InlineData("jörg@bücher.example", false)]
    [InlineData("joerg@bücher.example", true)]
    [InlineData("frank@example.test", true)]
    public void OnlyAnAsciiLocalPart_CanBeNamedInACertificate(string address, bool nameable)
    {
        Assert.Equal(nameable, SmimeCertificateProfile.CanName(address, out var reason));
        Assert.Equal(nameable, reason is null);
    }
}
