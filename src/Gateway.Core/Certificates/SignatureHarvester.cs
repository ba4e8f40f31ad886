using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// Takes the certificate to encrypt to a partner from their signed message, only when the message
/// proves it: the signature verifies over the exact signed bytes, the signer's certificate passes
/// the rules for signing for the From address (validity, chain to our anchors, usage, address),
/// and the certificate chosen to encrypt to (<see cref="EncryptionCertificates"/>) those for
/// encryption; the digest is not SHA-1 (the certificates' own signatures are the validator's
/// rule). Every reason for a refusal is listed, not just the first.
/// </summary>
public static class SignatureHarvester
{
    private const string Sha1 = "1.3.14.3.2.26";

    public static HarvestResult Harvest(byte[] rawMessage, TrustContext trust)
    {
        var parts = SignedMessageParts.Split(rawMessage, out var problem);
        if (parts is null) return HarvestResult.Refused(problem!);
        if (parts.From is null) return HarvestResult.Refused("the message has no From address to store the certificate for");

        // Counted before anything is decoded or verified: each signer and countersignature is one more verification.
        if (SignerInfoCount.Within(parts.Signature, out var excess) is null) return HarvestResult.Refused(excess!);
        var cms = parts.Detached ? new SignedCms(new ContentInfo(parts.Content!), detached: true) : new SignedCms();
        try
        {
            cms.Decode(parts.Signature);
        }
        catch (CryptographicException e)
        {
            return HarvestResult.Refused($"the signature is not readable CMS: {e.Message}");
        }
        if (cms.SignerInfos.Count != 1) return HarvestResult.Refused($"expected one signer, found {cms.SignerInfos.Count}");
        var signerInfo = cms.SignerInfos[0];
        var signer = signerInfo.Certificate;
        if (signer is null) return HarvestResult.Refused("the signature does not carry the signer's certificate");

        var problems = new List<string>();
        try
        {
            // verifySignatureOnly: the chain is judged below against our anchors, not the system's.
            signerInfo.CheckSignature(verifySignatureOnly: true);
        }
        catch (CryptographicException e)
        {
            problems.Add($"bad signature: {e.Message.TrimEnd('.')}");
        }
        if (signerInfo.DigestAlgorithm.Value == Sha1) problems.Add("signed with SHA-1, which is no longer accepted");
        if (EssCertificateBinding.Mismatch(signerInfo, signer) is { } substituted) problems.Add(substituted);

        var carried = cms.Certificates.Where(c => c.Thumbprint != signer.Thumbprint).ToList();
        var trustWithCarried = trust.WithIntermediates(carried);
        // The signer proves who sent it; whether that certificate can also be encrypted to is the next question.
        var signerVerdict = SmimeCertificateValidator.Validate(signer, parts.From, CertificateUsage.Signing, trustWithCarried);
        problems.AddRange(signerVerdict.Problems);

        var capabilities = signerInfo.SignedAttributes.Cast<CryptographicAttributeObject>()
            .FirstOrDefault(a => a.Oid.Value == Smime.SmimeOids.SmimeCapabilities)?.Values.Cast<AsnEncodedData>().FirstOrDefault()?.RawData;
        if (problems.Count > 0) return new HarvestResult(parts.From, signer, [], capabilities, problems);

        var (encryption, chain, why) = EncryptionCertificates(signerInfo, signer, cms.Certificates, carried, parts.From, trustWithCarried);
        if (encryption.Count == 0) problems.Add($"no certificate of the sender to encrypt to: {why}");
        // The intermediates that built the chains are kept with the certificates for their later use.
        return new HarvestResult(parts.From, signer, chain, capabilities, problems) { EncryptionCertificates = encryption };
    }

    /// <summary>
    /// The certificates mail to the sender may be encrypted to. The one SMIMEEncryptionKeyPreference
    /// names, when it is there: if the signature does not carry it, nothing (not a key the sender
    /// said not to use). Otherwise the signer's own, when it may encrypt; otherwise the newest
    /// carried certificate for the address that may (a signing-only certificate sent with its
    /// encryption certificate; also before an EC signer's own). Only one: the certificate set is not signed. Each passes the rules
    /// of a recipient certificate for the address (neither it nor its chain SHA-1-signed among them).
    /// </summary>
    private static (List<X509Certificate2> Usable, List<X509Certificate2> Chain, string Why) EncryptionCertificates(SignerInfo signerInfo, X509Certificate2 signer,
        X509Certificate2Collection all, List<X509Certificate2> carried, string address, TrustContext trust)
    {
        var (named, preferred) = EncryptionKeyPreference.Find(signerInfo, all);
        if (named && preferred is null)
            return ([], [], "its SMIMEEncryptionKeyPreference names a certificate the signature does not carry, or cannot be read");
        var problems = new List<string>();
        var first = preferred ?? signer;
        // An EC signer sent together with a certificate of another kind for the address is a dual-key
        // set-up: that other one is meant for encryption (a client that signs with ECDSA does not
        // always decrypt ECDH), so the carried ones are looked at first.
        var signerAfterCarried = preferred is null && Smime.SmimeOids.HasEcKey(signer);
        if (!signerAfterCarried && Usable(first, address, trust, problems) is { } chosen) return ([first], chosen, "");
        if (preferred is not null) return ([], [], string.Join("; ", problems));

        // Newest first: the certificate set is not signed, so an older one added on the way never wins.
        foreach (var candidate in carried.OrderByDescending(c => c.NotBefore).ThenByDescending(c => c.NotAfter))
            if (Usable(candidate, address, trust, problems, quiet: true) is { } chain) return ([candidate], chain, "");
        if (signerAfterCarried && Usable(signer, address, trust, problems) is { } own) return ([signer], own, "");
        return ([], [], string.Join("; ", problems.Append("no carried certificate for the address may be encrypted to")));
    }

    /// <summary>
    /// The intermediates of its chain when <paramref name="certificate"/> may be encrypted to for the
    /// address; else null, and why in <paramref name="problems"/> (unless <paramref name="quiet"/>
    /// and it is not even for the address: carried CA certificates are not worth a word).
    /// </summary>
    private static List<X509Certificate2>? Usable(X509Certificate2 certificate, string address, TrustContext trust, List<string> problems, bool quiet = false)
    {
        var verdict = SmimeCertificateValidator.Validate(certificate, address, CertificateUsage.Encryption, trust);
        var reasons = verdict.Problems;
        if (reasons.Count == 0) return verdict.ChainWithoutRoot.Skip(1).ToList();
        if (!quiet || !reasons.Any(r => r.EndsWith("is not in its subjectAltName", StringComparison.Ordinal)))
            problems.Add($"{certificate.Thumbprint}: {string.Join("; ", reasons)}");
        return null;
    }

}
