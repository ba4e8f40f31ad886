using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// Takes a partner's certificate from their signed message, only when the message proves it: the
/// signature verifies over the exact signed bytes, the signer's certificate passes the same rules
/// as every recipient certificate for the From address (validity, chain to our anchors, usage,
/// address), and nothing is SHA-1. Every reason for a refusal is listed, not just the first.
/// </summary>
public static class SignatureHarvester
{
    private const string Sha1 = "1.3.14.3.2.26";
    private const string Sha1WithRsa = "1.2.840.113549.1.1.5";
    private const string EcdsaWithSha1 = "1.2.840.10045.4.1";

    public static HarvestResult Harvest(byte[] rawMessage, TrustContext trust)
    {
        var parts = SignedMessageParts.Split(rawMessage, out var problem);
        if (parts is null) return HarvestResult.Refused(problem!);
        if (parts.From is null) return HarvestResult.Refused("the message has no From address to store the certificate for");

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
        if (signer.SignatureAlgorithm.Value is Sha1WithRsa or EcdsaWithSha1) problems.Add("the certificate itself is signed with SHA-1");

        var carried = cms.Certificates.Where(c => c.Thumbprint != signer.Thumbprint).ToList();
        var verdict = SmimeCertificateValidator.Validate(signer, parts.From, CertificateUsage.Encryption, trust.WithIntermediates(carried));
        problems.AddRange(verdict.Problems);

        var capabilities = signerInfo.SignedAttributes.Cast<CryptographicAttributeObject>()
            .FirstOrDefault(a => a.Oid.Value == Smime.SmimeOids.SmimeCapabilities)?.Values.Cast<AsnEncodedData>().FirstOrDefault()?.RawData;
        // The intermediates that built the chain are kept with the certificate for its later use.
        return new HarvestResult(parts.From, signer, verdict.ChainWithoutRoot.Skip(1).ToList(), capabilities, problems);
    }
}
