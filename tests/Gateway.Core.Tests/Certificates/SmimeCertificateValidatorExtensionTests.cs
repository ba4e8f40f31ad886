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

    /// <summary>
    /// An issuing CA whose extended key usage allows TLS servers only, under a trusted root: RFC 5280
    /// path validation as clients apply it (and CompanyCaImport for our own CA) makes that a limit on
    /// what it may issue, so its S/MIME certificates are no one's.
    /// </summary>
    [Fact]
    public void ALeafUnderAnIntermediateLimitedToServerAuth_IsRejected_ForItsChain()
    {
        var (leaf, trust) = LeafUnderIntermediate("CN=TLS Only Issuing CA, O=Gateway TEST ONLY", HashAlgorithmName.SHA256, serverAuthOnly: true);

        var verdict = SmimeCertificateValidator.Validate(leaf, Address, CertificateUsage.Encryption, trust);

        Assert.Equal(["chain: the extended key usage of CN=TLS Only Issuing CA, O=Gateway TEST ONLY does not allow emailProtection"], verdict.Problems);
    }

    /// <summary>
    /// SHA-1 and MD5 signatures can be forged (SHAttered, the 2008 rogue CA): a certificate signed
    /// with them is refused from every source, not only from harvested mail.
    /// </summary>
    [Theory]
    [InlineData("SHA1", "SHA-1")]
    [InlineData("MD5", "MD5")]
    public void ACertificateSignedWithABrokenHash_IsRejected(string hash, string named)
    {
        using var key = RSA.Create(2048);
        var certificate = Issue(new CertificateRequest($"CN={Address}", key, new HashAlgorithmName(hash), RSASignaturePadding.Pkcs1), _root, _rootKey, SmimeCertificateValidator.EmailProtectionOid);

        var verdict = SmimeCertificateValidator.Validate(certificate, Address, CertificateUsage.Signing, _trust);

        Assert.Contains($"the certificate itself is signed with {named}", verdict.Problems);
        Assert.False(verdict.Usable);
    }

    [Fact]
    public void ACertificateWhoseIssuingCaIsSignedWithSha1_IsRejected()
    {
        var (leaf, trust) = LeafUnderIntermediate("CN=SHA-1 Issuing CA, O=Gateway TEST ONLY", HashAlgorithmName.SHA1, serverAuthOnly: false);

        var verdict = SmimeCertificateValidator.Validate(leaf, Address, CertificateUsage.Encryption, trust);

        Assert.Equal(["chain: CN=SHA-1 Issuing CA, O=Gateway TEST ONLY is signed with SHA-1"], verdict.Problems);
    }

    /// <summary>An emailProtection leaf for <see cref="Address"/> under an intermediate CA (its request signed with <paramref name="hash"/>) issued by the test root.</summary>
    private (X509Certificate2 Leaf, TrustContext Trust) LeafUnderIntermediate(string name, HashAlgorithmName hash, bool serverAuthOnly)
    {
        using var caKey = RSA.Create(2048);
        var caRequest = new CertificateRequest(name, caKey, hash, RSASignaturePadding.Pkcs1);
        caRequest.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, critical: true));
        caRequest.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign, critical: true));
        if (serverAuthOnly) caRequest.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        caRequest.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(caRequest.PublicKey, critical: false));
        var intermediate = Issue(caRequest, _root, _rootKey);
        using var key = RSA.Create(2048);
        var leaf = Issue(new CertificateRequest($"CN={Address}", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1), intermediate, caKey, SmimeCertificateValidator.EmailProtectionOid);
        return (leaf, new TrustContext(new X509Certificate2Collection(_root), new X509Certificate2Collection(intermediate), _trust.Time));
    }

    /// <summary>
    /// Legacy certificates name the address only in the subject's emailAddress attribute, which
    /// RFC 8550 §3 says receiving agents MUST recognise: used when the subjectAltName has no rfc822Name.
    /// </summary>
    [Fact]
    public void AnAddressOnlyInTheSubjectsEmailAddress_IsUsable()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"E={Address}, CN=Legacy User, O=Gateway TEST ONLY", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        var certificate = Issue(request, _root, _rootKey, withSubjectAltName: false, ekus: SmimeCertificateValidator.EmailProtectionOid);

        Assert.Equal([Address], SmimeCertificateValidator.EmailAddresses(certificate));
        var verdict = SmimeCertificateValidator.Validate(certificate, Address, CertificateUsage.Encryption, _trust);
        Assert.True(verdict.Usable, string.Join("; ", verdict.Problems));
    }

    [Fact]
    public void TheSubjectsEmailAddress_IsNotUsed_WhenTheSubjectAltNameNamesAnAddress()
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("E=other@example.test, CN=User, O=Gateway TEST ONLY", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);

        var certificate = Issue(request, SmimeCertificateValidator.EmailProtectionOid);

        Assert.Equal([Address], SmimeCertificateValidator.EmailAddresses(certificate));
        Assert.False(SmimeCertificateValidator.Validate(certificate, "other@example.test", CertificateUsage.Encryption, _trust).Usable);
    }

    private X509Certificate2 Issue(CertificateRequest request, params string[] ekus) => Issue(request, _root, _rootKey, withSubjectAltName: true, ekus);

    private static X509Certificate2 Issue(CertificateRequest request, X509Certificate2 issuer, RSA issuerKey, params string[] ekus) =>
        Issue(request, issuer, issuerKey, withSubjectAltName: true, ekus);

    /// <summary>A CA request (it has basic constraints already) is signed as it is; a leaf gets the S/MIME extensions.</summary>
    private static X509Certificate2 Issue(CertificateRequest request, X509Certificate2 issuer, RSA issuerKey, bool withSubjectAltName, params string[] ekus)
    {
        var serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, true, false));
        if (request.CertificateExtensions.Any(e => e.Oid?.Value == "2.5.29.19"))
            return request.Create(issuer.SubjectName, new AnyHashRsaGenerator(issuerKey),
                DateTimeOffset.UtcNow.AddDays(-2), DateTimeOffset.UtcNow.AddDays(60), serial);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        var oids = new OidCollection();
        foreach (var eku in ekus) oids.Add(new Oid(eku));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension(oids, critical: false));
        if (withSubjectAltName && !request.CertificateExtensions.Any(e => e.Oid?.Value == "2.5.29.17"))
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddEmailAddress(Address);
            request.CertificateExtensions.Add(san.Build());
        }
        return request.Create(issuer.SubjectName, new AnyHashRsaGenerator(issuerKey),
            DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30), serial);
    }

    /// <summary>Signs with the request's hash, SHA-1 and MD5 included: .NET's own RSA generator refuses those; a partner's old CA did not.</summary>
    private sealed class AnyHashRsaGenerator(RSA key) : X509SignatureGenerator
    {
        private readonly X509SignatureGenerator _modern = CreateForRSA(key, RSASignaturePadding.Pkcs1);

        public override byte[] GetSignatureAlgorithmIdentifier(HashAlgorithmName hashAlgorithm) => hashAlgorithm.Name switch
        {
            "SHA1" => Convert.FromHexString("300D06092A864886F70D0101050500"), // sha1WithRSAEncryption, NULL parameters
            "MD5" => Convert.FromHexString("300D06092A864886F70D0101040500"), // md5WithRSAEncryption
            _ => _modern.GetSignatureAlgorithmIdentifier(hashAlgorithm),
        };

        public override byte[] SignData(byte[] data, HashAlgorithmName hashAlgorithm) => key.SignData(data, hashAlgorithm, RSASignaturePadding.Pkcs1);

        protected override PublicKey BuildPublicKey() => PublicKey.CreateFromSubjectPublicKeyInfo(key.ExportSubjectPublicKeyInfo(), out _);
    }

    public void Dispose()
    {
        _root.Dispose();
        _rootKey.Dispose();
    }
}
