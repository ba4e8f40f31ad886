using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Mail;

namespace Gateway.Certificates;

/// <summary>
/// The rules of RFC 8550 that decide whether a certificate may be used for an address now:
/// validity, a chain to a configured anchor, the emailProtection EKU, a key usage that fits the
/// purpose, no SHA-1 or MD5 signature on it or its CAs, and the address among the subjectAltName
/// rfc822Names (or the subject's emailAddress, <see cref="EmailAddresses"/>). Revocation is not checked here (the directory work adds it); everything else is,
/// for every source alike (folder, LDAP, cache, harvested and imported).
/// </summary>
public static class SmimeCertificateValidator
{
    public const string EmailProtectionOid = "1.3.6.1.5.5.7.3.4";
    public const string AnyExtendedKeyUsageOid = "2.5.29.37.0";
    public const string SubjectAltNameOid = "2.5.29.17";
    public const string EnhancedKeyUsageOid = "2.5.29.37";
    public const string KeyUsageOid = "2.5.29.15";
    public const string EmailAddressAttributeOid = "1.2.840.113549.1.9.1";

    public static CertificateVerdict Validate(X509Certificate2 certificate, string address, CertificateUsage usage, TrustContext trust)
    {
        var problems = new List<string>();
        try
        {
            var now = trust.Time.GetUtcNow().UtcDateTime;
            if (now < certificate.NotBefore.ToUniversalTime()) problems.Add($"not valid before {certificate.NotBefore.ToUniversalTime():u}");
            if (now > certificate.NotAfter.ToUniversalTime()) problems.Add($"expired on {certificate.NotAfter.ToUniversalTime():u}");
            if (PrivateCopy(certificate.Extensions["2.5.29.19"], (data, critical) => new X509BasicConstraintsExtension(data, critical))?.CertificateAuthority == true)
                problems.Add("a CA certificate, not a person's");
            if (!HasEmailProtection(certificate)) problems.Add("no emailProtection extended key usage");
            CheckKey(certificate, usage, problems);
            if (BrokenSignatureHash(certificate) is { } hash) problems.Add($"the certificate itself is signed with {hash}");
            if (!EmailAddresses(certificate).Any(a => MailAddress.Parse(a).SameMailboxAs(MailAddress.Parse(address))))
                problems.Add($"{address} is not in its subjectAltName");
            var chain = BuildChain(certificate, trust, now, problems);
            return new CertificateVerdict(certificate, problems, chain);
        }
        catch (CryptographicException e)
        {
            // Certificates come from partners' mail and directories: a malformed extension or key is a reason, not a crash.
            problems.Add($"malformed certificate: {e.Message.TrimEnd('.')}");
            return new CertificateVerdict(certificate, problems, []);
        }
    }

    /// <summary>
    /// The rfc822Names of the subjectAltName; when it has none, the subject's emailAddress
    /// attributes, where legacy certificates name the address (RFC 8550 §3: receiving agents MUST
    /// recognise them).
    /// </summary>
    public static IReadOnlyList<string> EmailAddresses(X509Certificate2 certificate)
    {
        var addresses = SubjectAltNameAddresses(certificate);
        return addresses.Count > 0 ? addresses : SubjectEmailAddresses(certificate);
    }

    private static List<string> SubjectEmailAddresses(X509Certificate2 certificate)
    {
        var addresses = new List<string>();
        try
        {
            // Name ::= SEQUENCE OF SET OF AttributeTypeAndValue; read whole, as a multi-valued RDN may hold it.
            var rdns = new AsnReader(certificate.SubjectName.RawData, AsnEncodingRules.DER).ReadSequence();
            while (rdns.HasData)
            {
                var rdn = rdns.ReadSetOf();
                while (rdn.HasData)
                {
                    var attribute = rdn.ReadSequence();
                    if (attribute.ReadObjectIdentifier() == EmailAddressAttributeOid && attribute.PeekTag().HasSameClassAndValue(new Asn1Tag(UniversalTagNumber.IA5String)))
                        addresses.Add(attribute.ReadCharacterString(UniversalTagNumber.IA5String));
                }
            }
        }
        catch (AsnContentException)
        {
            // A malformed subject names no usable address; the caller reports the address as missing.
        }
        return addresses;
    }

    private static List<string> SubjectAltNameAddresses(X509Certificate2 certificate)
    {
        var addresses = new List<string>();
        var extension = certificate.Extensions[SubjectAltNameOid];
        if (extension is null) return addresses;
        try
        {
            var reader = new AsnReader(extension.RawData, AsnEncodingRules.DER);
            var names = reader.ReadSequence();
            var rfc822Name = new Asn1Tag(TagClass.ContextSpecific, 1);
            while (names.HasData)
            {
                var tag = names.PeekTag();
                if (tag.HasSameClassAndValue(rfc822Name)) addresses.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, rfc822Name));
                else names.ReadEncodedValue();
            }
        }
        catch (AsnContentException)
        {
            // A malformed SAN lists no usable address; the caller reports the address as missing.
        }
        return addresses;
    }

    private static bool HasEmailProtection(X509Certificate2 certificate)
    {
        var eku = PrivateCopy(certificate.Extensions[EnhancedKeyUsageOid], (data, critical) => new X509EnhancedKeyUsageExtension(data, critical));
        return eku is not null && eku.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value is EmailProtectionOid or AnyExtendedKeyUsageOid);
    }

    /// <summary>
    /// A decoder of our own for an extension. The typed extension objects a certificate hands out
    /// decode lazily into shared fields, and two workers validating the same certificate for the
    /// first time race there: one of them saw an empty EKU list and refused a good certificate.
    /// </summary>
    private static T? PrivateCopy<T>(X509Extension? shared, Func<AsnEncodedData, bool, T> decode) where T : X509Extension =>
        shared is null ? null : decode(new AsnEncodedData(shared.Oid, shared.RawData), shared.Critical);

    /// <summary>
    /// Whether mail may be encrypted to this certificate's key by its algorithm, size and key usage
    /// alone: a signer's own certificate, whose address, chain and dates were judged when it was
    /// chosen to sign, is then also the one to name for replies.
    /// </summary>
    public static bool KeyMayEncrypt(X509Certificate2 certificate)
    {
        var problems = new List<string>();
        try
        {
            CheckKey(certificate, CertificateUsage.Encryption, problems);
        }
        catch (CryptographicException)
        {
            return false;
        }
        return problems.Count == 0;
    }

    private static void CheckKey(X509Certificate2 certificate, CertificateUsage usage, List<string> problems)
    {
        var rsa = certificate.GetRSAPublicKey();
        var ec = rsa is null && Smime.SmimeOids.HasEcKey(certificate);
        if (rsa is null)
        {
            // EC recipients get ECDH key agreement written by Smime.EcdhRecipientInfo (MimeKit/BouncyCastle's does not
            // interoperate with OpenSSL), on the NIST curves only.
            if (usage == CertificateUsage.Encryption && !(ec && Smime.EcdhRecipientInfo.Supports(certificate)))
                problems.Add($"key algorithm {certificate.PublicKey.Oid.FriendlyName ?? certificate.PublicKey.Oid.Value} cannot be used for encryption (RSA, or EC on P-256, P-384 or P-521)");
            else if (usage == CertificateUsage.Encryption && !EcKeyReadable(certificate))
                problems.Add("its EC public key cannot be read (not a point on its curve)");
            else if (usage == CertificateUsage.Signing && certificate.GetECDsaPublicKey() is null) problems.Add("key is neither RSA nor ECDSA");
        }
        else
        {
            using (rsa)
                if (rsa.KeySize < 2048) problems.Add($"RSA key of {rsa.KeySize} bits is too weak (2048 at least)");
        }

        var keyUsage = PrivateCopy(certificate.Extensions[KeyUsageOid], (data, critical) => new X509KeyUsageExtension(data, critical));
        if (keyUsage is null) return; // absent key usage means any usage (RFC 5280 §4.2.1.3)
        var flags = keyUsage.KeyUsages;
        if (usage == CertificateUsage.Signing && (flags & (X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.NonRepudiation)) == 0)
            problems.Add("key usage does not allow digitalSignature");
        if (usage == CertificateUsage.Encryption && rsa is not null && (flags & X509KeyUsageFlags.KeyEncipherment) == 0)
            problems.Add("key usage does not allow keyEncipherment");
        if (usage == CertificateUsage.Encryption && ec && (flags & X509KeyUsageFlags.KeyAgreement) == 0)
            problems.Add("key usage does not allow keyAgreement (an EC key is encrypted to by key agreement)");
        else if (usage == CertificateUsage.Encryption && ec && (flags & X509KeyUsageFlags.EncipherOnly) != 0)
            problems.Add("key usage limits keyAgreement to encipherOnly: the recipient could not decipher");
    }

    /// <summary>The EC point imports (it is on its curve). Read without the key usage check GetECDiffieHellmanPublicKey makes, which is judged apart.</summary>
    private static bool EcKeyReadable(X509Certificate2 certificate)
    {
        try
        {
            using var key = ECDiffieHellman.Create();
            key.ImportSubjectPublicKeyInfo(certificate.PublicKey.ExportSubjectPublicKeyInfo(), out _);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }

    private static List<X509Certificate2> BuildChain(X509Certificate2 certificate, TrustContext trust, DateTime now, List<string> problems)
    {
        using var chain = new X509Chain();
        chain.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
        chain.ChainPolicy.CustomTrustStore.AddRange(trust.Anchors);
        chain.ChainPolicy.ExtraStore.AddRange(trust.Intermediates);
        chain.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
        chain.ChainPolicy.DisableCertificateDownloads = true;
        chain.ChainPolicy.VerificationTime = now;
        chain.ChainPolicy.VerificationTimeIgnored = false;
        // An EKU in a CA certificate limits what it may issue (RFC 5280 path validation as clients
        // apply it): a CA limited to TLS servers under a trusted root issues no S/MIME certificate.
        chain.ChainPolicy.ApplicationPolicy.Add(new Oid(EmailProtectionOid));
        if (!chain.Build(certificate))
        {
            var statuses = chain.ChainStatus
                .Where(s => s.Status is not (X509ChainStatusFlags.NotTimeValid) || chain.ChainElements.Count > 1)
                .Where(s => s.Status != X509ChainStatusFlags.NotValidForUsage)
                .Select(s => s.Status == X509ChainStatusFlags.UntrustedRoot || s.Status == X509ChainStatusFlags.PartialChain
                    ? "does not chain to a configured trust anchor"
                    : s.StatusInformation.Trim())
                .Distinct()
                .ToList();
            // .NET marks every element NotValidForUsage and does not take anyExtendedKeyUsage in the
            // leaf: the leaf's own EKU is judged by HasEmailProtection, a CA's is named here.
            var limitingCas = chain.ChainStatus.Any(s => s.Status == X509ChainStatusFlags.NotValidForUsage)
                ? chain.ChainElements.Skip(1).Select(e => e.Certificate).Where(LimitsEmailProtection).Select(c => $"the extended key usage of {c.Subject} does not allow emailProtection").ToList()
                : [];
            statuses.AddRange(limitingCas);
            var onlyTheLeafsUsage = limitingCas.Count == 0 && chain.ChainStatus.All(s => s.Status == X509ChainStatusFlags.NotValidForUsage);
            if (!onlyTheLeafsUsage)
            {
                problems.AddRange(statuses.Count > 0 ? statuses.Select(s => "chain: " + s) : ["chain: does not chain to a configured trust anchor"]);
                return [];
            }
        }
        // Leaf and intermediates: the root is known to the relying party already (RFC 8551 §2.4.1 practice).
        var path = chain.ChainElements.Take(chain.ChainElements.Count - 1).Select(e => e.Certificate).ToList();
        // A CA certificate signed with a broken hash could be a forgery (the 2008 MD5 rogue CA); a
        // trust anchor's own signature proves nothing and is not judged.
        var weak = path.Skip(1).Select(ca => (ca, hash: BrokenSignatureHash(ca))).Where(w => w.hash is not null).ToList();
        if (weak.Count == 0) return path;
        problems.AddRange(weak.Select(w => $"chain: {w.ca.Subject} is signed with {w.hash}"));
        return [];
    }

    /// <summary>SHA-1 or MD5 (or MD2) when the certificate's own signature uses it: such signatures can be forged (SHAttered, the MD5 rogue CA).</summary>
    private static string? BrokenSignatureHash(X509Certificate2 certificate) => certificate.SignatureAlgorithm.Value switch
    {
        "1.2.840.113549.1.1.5" or "1.3.14.3.2.29" or "1.2.840.10045.4.1" or "1.2.840.10040.4.3" => "SHA-1", // RSA (and its old OID), ECDSA, DSA
        "1.2.840.113549.1.1.4" => "MD5",
        "1.2.840.113549.1.1.2" => "MD2",
        _ => null,
    };

    /// <summary>A CA certificate with an extended key usage that allows neither emailProtection nor any usage.</summary>
    private static bool LimitsEmailProtection(X509Certificate2 ca) =>
        ca.Extensions[EnhancedKeyUsageOid] is not null && !HasEmailProtection(ca);
}
