using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Testing.Pki;

/// <summary>
/// A throw-away PKI generated at run time, so no test breaks when a committed certificate expires.
/// Everything is marked "Gateway TEST ONLY" in the subject.
/// </summary>
public sealed class TestPki : IDisposable
{
    private static readonly Oid EmailProtection = new("1.3.6.1.5.5.7.3.4", "emailProtection");
    private readonly List<IDisposable> _owned = [];
    private readonly Lazy<TestCertificateAuthority> _untrustedRoot;

    private TestPki(TestCertificateAuthority root)
    {
        Root = root;
        _owned.Add(root);
        _untrustedRoot = new Lazy<TestCertificateAuthority>(() =>
            Own(TestCertificateAuthority.CreateRoot("Untrusted Test Root CA")));
    }

    /// <summary>The trusted root: give its certificate to openssl -CAfile, gpgsm trustlist and the gateway.</summary>
    public TestCertificateAuthority Root { get; }

    /// <summary>A second, unrelated root that no peer is told to trust.</summary>
    public TestCertificateAuthority UntrustedRoot => _untrustedRoot.Value;

    public static TestPki Create(string rootName = "Gateway Test Root CA") =>
        new(TestCertificateAuthority.CreateRoot(rootName));

    /// <summary>An intermediate CA under <paramref name="parent"/> (default: the trusted root).</summary>
    public TestCertificateAuthority CreateIntermediate(string name = "Gateway Test Intermediate CA",
        TestCertificateAuthority? parent = null) =>
        Own((parent ?? Root).CreateSubordinate(name));

    /// <summary>A TLS server certificate for 127.0.0.1 and <paramref name="dnsName"/>, issued by the trusted root.</summary>
    public X509Certificate2 IssueTlsServer(string dnsName = "localhost")
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest($"CN={dnsName}, O=Gateway TEST ONLY", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var names = new SubjectAlternativeNameBuilder();
        names.AddDnsName(dnsName);
        names.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], critical: false));
        request.CertificateExtensions.Add(Root.AuthorityKeyIdentifier());
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] &= 0x7F;
        var now = DateTimeOffset.UtcNow;
        using var issued = request.Create(Root.Certificate.SubjectName, X509SignatureGenerator.CreateForRSA(Root.SigningKey, RSASignaturePadding.Pkcs1), now.AddDays(-1), now.AddDays(30), serial);
        using var withKey = issued.CopyWithPrivateKey(key);
        return X509CertificateLoader.LoadPkcs12(withKey.Export(X509ContentType.Pkcs12), null);
    }

    /// <summary>Issues an RSA S/MIME certificate for <paramref name="address"/>.</summary>
    public TestIdentity Issue(string address, CertificateOptions? options = null)
    {
        options ??= new CertificateOptions();
        var issuer = options.FromUntrustedCa ? UntrustedRoot : options.Issuer ?? Root;
        var now = DateTimeOffset.UtcNow;

        using AsymmetricAlgorithm created = options.EcCurve is { } curve ? ECDsa.Create(curve) : RSA.Create(options.KeySize);
        AsymmetricAlgorithm key = options.ReusedRsaKey ?? created;
        var request = key is ECDsa ec
            ? new CertificateRequest($"CN={address}, O=Gateway TEST ONLY", ec, HashAlgorithmName.SHA256)
            : options.OmitRsaAlgorithmParameters
                ? new CertificateRequest(new X500DistinguishedName($"CN={address}, O=Gateway TEST ONLY"),
                    new PublicKey(new Oid("1.2.840.113549.1.1.1"), null, new AsnEncodedData(((RSA)key).ExportRSAPublicKey())), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1)
                : new CertificateRequest($"CN={address}, O=Gateway TEST ONLY", (RSA)key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var extensions = request.CertificateExtensions;
        extensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        var keyUsage = options.EcCurve is not null && options.KeyUsage == new CertificateOptions().KeyUsage
            ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement
            : options.KeyUsage;
        if (keyUsage != X509KeyUsageFlags.None)
        {
            extensions.Add(new X509KeyUsageExtension(keyUsage, options.KeyUsageCritical));
        }

        if (options.IncludeEmailProtectionEku)
        {
            extensions.Add(new X509EnhancedKeyUsageExtension([EmailProtection], critical: false));
        }

        if (options.IncludeSubjectAltName)
        {
            var san = new SubjectAlternativeNameBuilder();
            san.AddEmailAddress(options.SubjectAltNameEmail ?? address);
            extensions.Add(san.Build());
        }

        extensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        extensions.Add(issuer.AuthorityKeyIdentifier());
        if (options.CrlDistributionUrl is { } crl)
            extensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([crl]));
        if (options.OcspUrl is { } ocsp)
            extensions.Add(new X509AuthorityInformationAccessExtension([ocsp], null));

        using var publicOnly = issuer.Sign(request, options.NotBefore ?? now.AddDays(-1), options.NotAfter ?? now.AddYears(1));
        var identity = new TestIdentity(address, TestIdentity.AttachKey(publicOnly, key), key.ExportPkcs8PrivateKeyPem(),
            issuer.Chain);
        return Own(identity);
    }

    /// <summary>
    /// A certificate with the issuer, serial number and key of <paramref name="original"/> that
    /// names <paramref name="address"/> instead: what a certificate substitution (RFC 5035 §1)
    /// hands a verifier that finds the signer's certificate by issuer and serial alone.
    /// </summary>
    public X509Certificate2 Twin(X509Certificate2 original, string address)
    {
        var request = new CertificateRequest(new X500DistinguishedName($"CN={address}, O=Gateway TEST ONLY"), original.PublicKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        foreach (var extension in original.Extensions.Where(e => e.Oid?.Value != "2.5.29.17")) request.CertificateExtensions.Add(extension);
        var san = new SubjectAlternativeNameBuilder();
        san.AddEmailAddress(address);
        request.CertificateExtensions.Add(san.Build());
        return Own(request.Create(Root.Certificate.SubjectName, X509SignatureGenerator.CreateForRSA(Root.SigningKey, RSASignaturePadding.Pkcs1),
            original.NotBefore, original.NotAfter, original.SerialNumberBytes.Span));
    }

    public void Dispose()
    {
        foreach (var item in _owned)
        {
            item.Dispose();
        }
    }

    /// <summary>16 random bytes, top bit cleared so the DER INTEGER stays positive, next bit set so it keeps 16 bytes.</summary>
    internal static byte[] NewSerialNumber()
    {
        var serial = RandomNumberGenerator.GetBytes(16);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x40);
        return serial;
    }

    private T Own<T>(T item)
        where T : IDisposable
    {
        lock (_owned)
        {
            _owned.Add(item);
        }

        return item;
    }
}
