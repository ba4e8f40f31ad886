using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Certificates;

/// <summary>
/// Certificates TestPki cannot make (other EKUs, EC keys), issued by a root built here.
/// </summary>
public sealed class SmimeCertificateValidatorExtensionTests : IDisposable
{
    private const string Address = "ext@example.test";
    private readonly RSA _rootKey = RSA.Create(2048);
    private readonly X509Certificate2 _root;
    private readonly TrustContext _trust;

    public SmimeCertificateValidatorExtensionTests()
    {
        var request = new CertificateRequest("CN=Extension Test Root, O=Gateway TEST ONLY", _rootKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        _root = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddYears(-1), DateTimeOffset.UtcNow.AddYears(5));
        _trust = new TrustContext(new X509Certificate2Collection(_root), [], new FakeTimeProvider(DateTimeOffset.UtcNow));
    }

    [Fact]
    public void EkuWithoutEmailProtection_IsRejected()
    {
        using var key = RSA.Create(2048);
        var certificate = Issue(new CertificateRequest($"CN={Address}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), "1.3.6.1.5.5.7.3.1");

        var verdict = SmimeCertificateValidator.Validate(certificate, Address, CertificateUsage.Encryption, _trust);

        Assert.Equal(["no emailProtection extended key usage"], verdict.Problems);
    }

    [Fact]
    public void AnyExtendedKeyUsage_IsAccepted()
    {
        using var key = RSA.Create(2048);
        var certificate = Issue(new CertificateRequest($"CN={Address}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), "1.3.6.1.5.5.7.3.1", "2.5.29.37.0");

        var verdict = SmimeCertificateValidator.Validate(certificate, Address, CertificateUsage.Encryption, _trust);

        Assert.True(verdict.Usable, string.Join("; ", verdict.Problems));
    }

    [Fact]
    public void EcKeyWithoutKeyAgreement_IsUsableForSigning_ButNotForEncryption()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var certificate = Issue(new CertificateRequest($"CN={Address}", key, HashAlgorithmName.SHA256), SmimeCertificateValidator.EmailProtectionOid);

        var signing = SmimeCertificateValidator.Validate(certificate, Address, CertificateUsage.Signing, _trust);
        var encryption = SmimeCertificateValidator.Validate(certificate, Address, CertificateUsage.Encryption, _trust);

        Assert.True(signing.Usable, string.Join("; ", signing.Problems));
        var problem = Assert.Single(encryption.Problems);
        Assert.StartsWith("key usage does not allow keyAgreement", problem);
    }

    [Fact]
    public void EmailAddresses_ListsEveryRfc822NameOfTheSubjectAltName_AndNothingElse()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={Address}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress("first@example.test");
        san.AddDnsName("mail.example.test");
        san.AddEmailAddress("second@example.test");
        request.CertificateExtensions.Add(san.Build());

        var certificate = Issue(request, SmimeCertificateValidator.EmailProtectionOid);

        Assert.Equal(["first@example.test", "second@example.test"], SmimeCertificateValidator.EmailAddresses(certificate));
        Assert.True(SmimeCertificateValidator.Validate(certificate, "second@example.test", CertificateUsage.Signing, _trust).Usable);
    }

    private X509Certificate2 Issue(CertificateRequest request, params string[] ekus)
    {
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        var oids = new OidCollection();
        foreach (var eku in ekus) oids.Add(new Oid(eku));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, critical: false));
        if (!request.CertificateExtensions.Any(e => e.Oid?.Value == "2.5.29.17"))
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddEmailAddress(Address);
            request.CertificateExtensions.Add(san.Build());
        }
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_root, true, false));
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        return request.Create(_root.SubjectName, X509SignatureGenerator.CreateForRSA(_rootKey, RSASignaturePadding.Pkcs1),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
    }

    public void Dispose()
    {
        _root.Dispose();
        _rootKey.Dispose();
    }
}
