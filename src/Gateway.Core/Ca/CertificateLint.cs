using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Certificates;

namespace Gateway.Ca;

/// <summary>
/// Checks an issued certificate against the mailbox-validated strict profile. The issuer runs it
/// on every certificate before handing it out, so a profile bug can never reach a recipient.
/// </summary>
public static class CertificateLint
{
    /// <param name="issuer">When given, the signature must also use the hash its key calls for (BR: P-384 with SHA-384, P-521 with SHA-512).</param>
    public static IReadOnlyList<string> Check(X509Certificate2 certificate, string address, X509Certificate2? issuer = null)
    {
        var problems = new List<string>();
        if (issuer is not null && SmimeCertificateProfile.SignatureAlgorithm(issuer) is var wanted && certificate.SignatureAlgorithm.Value != wanted)
            problems.Add($"signature algorithm {certificate.SignatureAlgorithm.FriendlyName ?? certificate.SignatureAlgorithm.Value} does not fit the issuer's key (wanted {new Oid(wanted).FriendlyName ?? wanted})");
        if (certificate.Version != 3) problems.Add("not an X.509 v3 certificate");
        var serial = certificate.SerialNumberBytes.Span;
        if (serial.Length < 9 || (serial[0] & 0x80) != 0) problems.Add("serial number must be positive with at least 64 random bits");
        if (certificate.NotAfter - certificate.NotBefore > SmimeCertificateProfile.MaximumValidity) problems.Add("validity longer than 825 days");
        if (certificate.SignatureAlgorithm.Value is "1.2.840.113549.1.1.5" or "1.2.840.10045.4.1") problems.Add("SHA-1 signature");

        var extensions = certificate.Extensions.Cast<X509Extension>().ToDictionary(e => e.Oid!.Value!, e => e);
        if (!extensions.TryGetValue("2.5.29.19", out var basic) || new X509BasicConstraintsExtension(basic, basic.Critical).CertificateAuthority)
            problems.Add("basicConstraints must be present with cA false");

        if (!extensions.TryGetValue(SmimeCertificateValidator.EnhancedKeyUsageOid, out var ekuRaw)) problems.Add("no extended key usage");
        else
        {
            var eku = new X509EnhancedKeyUsageExtension(ekuRaw, ekuRaw.Critical).EnhancedKeyUsages.Cast<Oid>().Select(o => o.Value).ToList();
            if (eku is not [SmimeCertificateProfile.EmailProtection]) problems.Add($"extended key usage must be emailProtection only, is {string.Join(",", eku)}");
        }

        using var rsa = certificate.GetRSAPublicKey();
        using var ec = certificate.GetECDsaPublicKey();
        var expected = rsa is not null
            ? X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment
            : X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyAgreement;
        if (!extensions.TryGetValue(SmimeCertificateValidator.KeyUsageOid, out var kuRaw) || !kuRaw.Critical) problems.Add("key usage must be present and critical");
        else if (new X509KeyUsageExtension(kuRaw, true).KeyUsages != expected) problems.Add($"key usage must be exactly {expected}");
        if (rsa is not null && (rsa.KeySize < 2048 || rsa.KeySize % 8 != 0)) problems.Add($"RSA key of {rsa.KeySize} bits");
        if (rsa is null && ec is null) problems.Add("key is neither RSA nor ECDSA");

        if (!extensions.TryGetValue(SmimeCertificateValidator.SubjectAltNameOid, out var san)) problems.Add("no subjectAltName");
        else
        {
            var (emails, others) = Names(san.RawData);
            if (others > 0) problems.Add("subjectAltName may hold rfc822Names only");
            // The SAN holds an IDN domain in A-labels; the address may be written with U-labels.
            if (!emails.Any(e => Mail.MailAddress.LookupKey(e) == Mail.MailAddress.LookupKey(address))) problems.Add($"{address} is not in subjectAltName");
        }
        if (!extensions.TryGetValue("2.5.29.32", out var policies) || !HasPolicy(policies.RawData, SmimeCertificateProfile.MailboxValidatedStrictPolicy))
            problems.Add("certificatePolicies must name the mailbox-validated strict policy");
        if (!extensions.ContainsKey("2.5.29.35")) problems.Add("no authority key identifier");
        return problems;
    }

    private static (List<string> Emails, int Others) Names(byte[] der)
    {
        var emails = new List<string>();
        var others = 0;
        var names = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        var rfc822 = new Asn1Tag(TagClass.ContextSpecific, 1);
        while (names.HasData)
        {
            if (names.PeekTag().HasSameClassAndValue(rfc822)) emails.Add(names.ReadCharacterString(UniversalTagNumber.IA5String, rfc822));
            else { names.ReadEncodedValue(); others++; }
        }
        return (emails, others);
    }

    private static bool HasPolicy(byte[] der, string oid)
    {
        var policies = new AsnReader(der, AsnEncodingRules.DER).ReadSequence();
        while (policies.HasData)
        {
            var policy = policies.ReadSequence();
            if (policy.ReadObjectIdentifier() == oid) return true;
        }
        return false;
    }
}
