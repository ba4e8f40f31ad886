using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using Gateway.Certificates;

namespace Gateway.Inbound;

/// <summary>
/// Whether a MIME entity is S/MIME signed and its signature verifies over the exact signed bytes,
/// whoever the signer is: what decrypted content needs to be trusted as untampered. Nobody who
/// bent the ciphertext can sign plaintext they never saw; whether the signer is who the mail
/// claims is the reader's client's question, with the certificate the signature carries. A
/// signature with more signers or countersignatures than any client writes is not verified at all
/// (<see cref="SignerInfoCount"/>): each would cost a hash of the whole content.
/// </summary>
public static class SignatureCheck
{
    public static bool Verifies(byte[] entity)
    {
        var parts = SignedMessageParts.Split(entity, out _);
        return parts is not null && SignatureVerifies(parts.Signature, parts.Detached ? parts.Content : null);
    }

    /// <summary>
    /// Whether <paramref name="signedData"/> is CMS SignedData with a signer or a few (counted
    /// first) whose signatures verify, over <paramref name="detachedContent"/> or, when that is
    /// null, over the content it carries.
    /// </summary>
    public static bool SignatureVerifies(byte[] signedData, byte[]? detachedContent)
    {
        if (SignerInfoCount.Within(signedData, out _) is not > 0) return false;
        var cms = detachedContent is null ? new SignedCms() : new SignedCms(new ContentInfo(detachedContent), detached: true);
        try
        {
            cms.Decode(signedData);
            // verifySignatureOnly: integrity is the question here, not trust in the signer.
            cms.CheckSignature(verifySignatureOnly: true);
            return true;
        }
        catch (CryptographicException)
        {
            return false;
        }
    }
}
