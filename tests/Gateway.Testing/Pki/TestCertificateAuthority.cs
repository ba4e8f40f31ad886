using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Testing.Pki;

/// <summary>A test CA (root or intermediate) that can sign certificates.</summary>
public sealed class TestCertificateAuthority : IDisposable
{
    private readonly RSA _key;

    internal RSA SigningKey => _key;

    private TestCertificateAuthority(X509Certificate2 certificate, RSA key, IReadOnlyList<X509Certificate2> chain)
    {
        Certificate = certificate;
        _key = key;
        Chain = chain;
    }

    /// <summary>The CA certificate (public part only).</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>This CA followed by its issuers up to and including the root.</summary>
    public IReadOnlyList<X509Certificate2> Chain { get; }

    public string CertificatePem => Certificate.ExportCertificatePem();

    public string Sha1Fingerprint => Certificate.Thumbprint;

    /// <summary>A CRL signed by this CA listing <paramref name="revoked"/>, valid for a day.</summary>
    public byte[] CreateCrl(params X509Certificate2[] revoked)
    {
        var builder = new CertificateRevocationListBuilder();
        var now = DateTimeOffset.UtcNow;
        foreach (var certificate in revoked) builder.AddEntry(certificate, now.AddMinutes(-1), X509RevocationReason.KeyCompromise);
        using var withKey = Certificate.CopyWithPrivateKey(_key);
        return builder.Build(withKey, BigInteger.One, now.AddDays(1), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, now.AddMinutes(-5));
    }

    /// <summary>The CA key as PKCS#8 PEM, for peers that sign as the CA (an OCSP responder).</summary>
    public string PrivateKeyPem => _key.ExportPkcs8PrivateKeyPem();

    public void WriteCertificate(string path) => File.WriteAllText(path, CertificatePem);

    public void Dispose()
    {
        _key.Dispose();
        Certificate.Dispose();
    }

    internal static TestCertificateAuthority CreateRoot(string commonName)
    {
        var key = RSA.Create(2048);
        var request = NewCaRequest(commonName, key, pathLength: null);
        var now = DateTimeOffset.UtcNow;

        // A wide validity window, so that in expiry tests only the leaf's dates decide the outcome.
        using var selfSigned = request.CreateSelfSigned(now.AddYears(-10), now.AddYears(20));
        var certificate = X509CertificateLoader.LoadCertificate(selfSigned.RawData);
        return new TestCertificateAuthority(certificate, key, [certificate]);
    }

    internal TestCertificateAuthority CreateSubordinate(string commonName)
    {
        var key = RSA.Create(2048);
        var request = NewCaRequest(commonName, key, pathLength: 0);
        request.CertificateExtensions.Add(AuthorityKeyIdentifier());
        var certificate = Sign(request, Certificate.NotBefore, Certificate.NotAfter);
        return new TestCertificateAuthority(certificate, key, [certificate, .. Chain]);
    }

    internal X509Certificate2 Sign(CertificateRequest request, DateTimeOffset notBefore, DateTimeOffset notAfter) =>
        request.Create(Certificate.SubjectName, X509SignatureGenerator.CreateForRSA(_key, RSASignaturePadding.Pkcs1),
            notBefore, notAfter, TestPki.NewSerialNumber());

    internal X509Extension AuthorityKeyIdentifier() =>
        X509AuthorityKeyIdentifierExtension.CreateFromCertificate(Certificate, includeKeyIdentifier: true,
            includeIssuerAndSerial: false);

    private static CertificateRequest NewCaRequest(string commonName, RSA key, int? pathLength)
    {
        var request = new CertificateRequest($"CN={commonName}, O=Gateway TEST ONLY", key, HashAlgorithmName.SHA256,
            RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, pathLength.HasValue,
            pathLength ?? 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(
            X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        return request;
    }
}
