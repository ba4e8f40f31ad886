using Gateway.Certificates;
using Gateway.Policy;
using Gateway.Smime;

namespace Gateway.Pipeline;

/// <summary>
/// The content cipher of one recipient's copy. The rule's, unless it is CBC with
/// <see cref="AuthenticatedEncryption.WhenAdvertised"/> and the client behind every certificate
/// the copy is encrypted to put AES-GCM first among the content ciphers we write, in the
/// SMIMECapabilities of its signed mail (RFC 8551 §2.7.1.1: the first capability the sender
/// knows how to encrypt with): then AES-GCM (AuthEnvelopedData), of the rule's key size when all
/// name it, else of the other size all name. A certificate whose owner's client is not known to
/// prefer GCM (one that never came with its owner's signed mail, or a client that lists CBC first
/// or only) keeps the copy on CBC: every S/MIME client reads that, gpgsm 2.2 no GCM at all.
/// </summary>
public static class ContentEncryptionChoice
{
    private static readonly ContentEncryption[] Written =
        [ContentEncryption.Aes256Gcm, ContentEncryption.Aes128Gcm, ContentEncryption.Aes256Cbc, ContentEncryption.Aes128Cbc];

    public static CryptoSettings For(CryptoSettings rule, CertificateChoice certificate)
    {
        if (rule.IsAuthenticated || rule.AuthenticatedEncryption == AuthenticatedEncryption.Never || certificate.Selected is null) return rule;
        var capabilities = new[] { certificate.Selected }.Concat(certificate.AlsoUsable.Select(u => u.Candidate)).Select(c => c.Capabilities).ToList();
        if (capabilities.Any(c => c is null || !PrefersGcm(c))) return rule;
        var (preferred, other) = rule.ContentEncryption == ContentEncryption.Aes128Cbc
            ? (ContentEncryption.Aes128Gcm, ContentEncryption.Aes256Gcm)
            : (ContentEncryption.Aes256Gcm, ContentEncryption.Aes128Gcm);
        foreach (var gcm in new[] { preferred, other })
        {
            if (capabilities.All(c => c!.Advertises(SmimeOids.ContentEncryption(gcm)))) return rule with { ContentEncryption = gcm };
        }
        return rule;
    }

    /// <summary>The first content cipher of the list that we write is a GCM one.</summary>
    private static bool PrefersGcm(SmimeCapabilities capabilities)
    {
        var first = capabilities.Algorithms.FirstOrDefault(oid => Written.Any(c => SmimeOids.ContentEncryption(c) == oid));
        return first == SmimeOids.Aes256Gcm || first == SmimeOids.Aes128Gcm;
    }
}
