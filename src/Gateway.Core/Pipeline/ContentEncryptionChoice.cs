using Gateway.Certificates;
using Gateway.Policy;
using Gateway.Smime;

namespace Gateway.Pipeline;

/// <summary>
/// The content cipher of one recipient's copy. The rule's, unless it is CBC with
/// <see cref="AuthenticatedEncryption.WhenAdvertised"/> and every certificate the copy is
/// encrypted to came with SMIMECapabilities naming AES-GCM: then AES-GCM (AuthEnvelopedData), of
/// the rule's key size when all name it, else of the other size all name. A certificate whose
/// owner's client is not known to read GCM (one from a directory, or from a client that lists only
/// CBC) keeps the copy on CBC: every S/MIME client reads that, gpgsm 2.2 no GCM at all.
/// </summary>
public static class ContentEncryptionChoice
{
    public static CryptoSettings For(CryptoSettings rule, CertificateChoice certificate)
    {
        if (rule.IsAuthenticated || rule.AuthenticatedEncryption == AuthenticatedEncryption.Never || certificate.Selected is null) return rule;
        var capabilities = new[] { certificate.Selected }.Concat(certificate.AlsoUsable.Select(u => u.Candidate)).Select(c => c.Capabilities).ToList();
        if (capabilities.Any(c => c is null)) return rule;
        var (preferred, other) = rule.ContentEncryption == ContentEncryption.Aes128Cbc
            ? (ContentEncryption.Aes128Gcm, ContentEncryption.Aes256Gcm)
            : (ContentEncryption.Aes256Gcm, ContentEncryption.Aes128Gcm);
        foreach (var gcm in new[] { preferred, other })
        {
            if (capabilities.All(c => c!.Advertises(SmimeOids.ContentEncryption(gcm)))) return rule with { ContentEncryption = gcm };
        }
        return rule;
    }
}
