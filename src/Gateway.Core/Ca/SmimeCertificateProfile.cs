using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ca;

/// <summary>
/// The CA/Browser Forum S/MIME Baseline Requirements mailbox-validated strict profile: only the
/// emailProtection EKU, key usage by key type (RSA: digitalSignature + keyEncipherment; EC:
/// digitalSignature + keyAgreement), the address as the only rfc822Name, at most 825 days, a
/// serial with 128 random bits, the strict mailbox-validated policy OID, and AIA and CRL
/// distribution points when the CA publishes them.
/// </summary>
public static class SmimeCertificateProfile
{
    public const string MailboxValidatedStrictPolicy = "2.23.140.1.5.1.3";
    public const string EmailProtection = Certificates.SmimeCertificateValidator.EmailProtectionOid;
    public static readonly TimeSpan MaximumValidity = TimeSpan.FromDays(825);

    public static CertificateRequest CreateRequest(string address, AsymmetricAlgorithm subscriberKey)
    {
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(address);
        var request = subscriberKey switch
        {
            RSA rsa => new CertificateRequest(subject.Build(), rsa, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1),
            ECDsa ec => new CertificateRequest(subject.Build(), ec, HashAlgorithmName.SHA256),
            _ => throw new ArgumentException("RSA or ECDSA keys only", nameof(subscriberKey)),
        };
        var usage = subscriberKey is RSA
            ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment
            : X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement;
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(usage, critical: true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid(EmailProtection)], critical: false));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        request.CertificateExtensions.Add(SubjectAltName(address));
        request.CertificateExtensions.Add(CertificatePolicies());
        return request;
    }

    public static void AddIssuerExtensions(CertificateRequest request, X509Certificate2 issuer, IssuanceRequest issuance)
    {
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(issuer, includeKeyIdentifier: true, includeIssuerAndSerial: false));
        if (issuance.CrlDistributionUrl is { } crl)
            request.CertificateExtensions.Add(CertificateRevocationListBuilder.BuildCrlDistributionPointExtension([crl]));
        if (issuance.IssuerCertificateUrl is { } aia)
            request.CertificateExtensions.Add(new X509AuthorityInformationAccessExtension(null, [aia]));
    }

    /// <summary>
    /// Signs with the issuer's own key type, so an RSA CA can certify an EC subscriber (the plain
    /// Create overload insists that both keys are of one algorithm), and with the hash the
    /// issuer's key calls for (<see cref="SignatureHash"/>), whatever hash the request was made with.
    /// </summary>
    public static X509Certificate2 Sign(CertificateRequest request, X509Certificate2 issuer, DateTimeOffset notBefore, DateTimeOffset notAfter, byte[] serial)
    {
        using var rsa = issuer.GetRSAPrivateKey();
        using var ec = rsa is null ? issuer.GetECDsaPrivateKey() : null;
        var generator = rsa is not null ? X509SignatureGenerator.CreateForRSA(rsa, RSASignaturePadding.Pkcs1)
            : ec is not null ? X509SignatureGenerator.CreateForECDsa(ec)
            : throw new ArgumentException("the issuer certificate has no RSA or ECDSA private key", nameof(issuer));
        // The request's hash is the one Create signs with, and it cannot be changed: the same request under the issuer's hash.
        var signed = new CertificateRequest(request.SubjectName, request.PublicKey, SignatureHash(issuer), rsa is null ? null : RSASignaturePadding.Pkcs1);
        foreach (var extension in request.CertificateExtensions) signed.CertificateExtensions.Add(extension);
        return signed.Create(issuer.SubjectName, generator, notBefore, notAfter, serial);
    }

    /// <summary>
    /// The hash an issuer signs certificates and CRLs with. The S/MIME BR tie ECDSA to its curve
    /// (P-256: SHA-256, P-384: SHA-384, P-521: SHA-512); RSA keys sign with SHA-256, which the BR
    /// allow for any RSA size.
    /// </summary>
    public static HashAlgorithmName SignatureHash(X509Certificate2 issuer)
    {
        using var ec = issuer.GetECDsaPublicKey();
        return ec?.KeySize switch
        {
            384 => HashAlgorithmName.SHA384,
            521 => HashAlgorithmName.SHA512,
            _ => HashAlgorithmName.SHA256,
        };
    }

    /// <summary>The signature algorithm OID <see cref="SignatureHash"/> gives with the issuer's key type.</summary>
    public static string SignatureAlgorithm(X509Certificate2 issuer)
    {
        using var ec = issuer.GetECDsaPublicKey();
        var hash = SignatureHash(issuer);
        return (ec is not null, hash.Name) switch
        {
            (true, "SHA384") => "1.2.840.10045.4.3.3",
            (true, "SHA512") => "1.2.840.10045.4.3.4",
            (true, _) => "1.2.840.10045.4.3.2",
            _ => "1.2.840.113549.1.1.11",
        };
    }

    /// <summary>128 random bits, the top bit cleared so the DER INTEGER stays positive without padding.</summary>
    public static byte[] NewSerialNumber()
    {
        var serial = new byte[16];
        RandomNumberGenerator.Fill(serial);
        serial[0] = (byte)((serial[0] & 0x7F) | 0x01);
        return serial;
    }

    /// <summary>
    /// Whether the address fits an rfc822Name (IA5String): the domain can always be written in
    /// A-labels (RFC 5280 §7.5), a non-ASCII local part cannot; it would need an RFC 8398
    /// SmtpUTF8Mailbox, which we do not issue (and few clients read).
    /// </summary>
    public static bool CanName(string address, out string? reason)
    {
        var at = address.LastIndexOf('@');
        var localPart = at < 0 ? address : address[..at];
        reason = localPart.All(char.IsAscii) ? null
            : $"the local part of {address} is not ASCII: an S/MIME certificate (rfc822Name) cannot name it";
        return reason is null;
    }

    private static X509Extension SubjectAltName(string address)
    {
        if (!CanName(address, out var reason)) throw new ArgumentException(reason, nameof(address));
        var at = address.LastIndexOf('@');
        var builder = new SubjectAlternativeNameBuilder();
        builder.AddEmailAddress($"{address[..at]}@{Mail.DomainName.Ascii(address[(at + 1)..])}");
        return builder.Build(critical: false);
    }

    private static X509Extension CertificatePolicies()
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        using (writer.PushSequence())
            writer.WriteObjectIdentifier(MailboxValidatedStrictPolicy);
        return new X509Extension("2.5.29.32", writer.Encode(), critical: false);
    }
}
