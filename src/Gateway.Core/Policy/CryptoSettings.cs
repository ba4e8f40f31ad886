namespace Gateway.Policy;

public enum ContentEncryption { Aes256Cbc, Aes128Cbc }

public enum KeyTransport { RsaPkcs1, RsaOaepSha256 }

public enum SignatureDigest { Sha256, Sha384, Sha512 }

/// <summary>Detached: multipart/signed, readable without S/MIME support. Opaque: application/pkcs7-mime signed-data.</summary>
public enum SignatureForm { Detached, Opaque }

/// <summary>RSA signature padding. gpgsm 2.2 cannot verify PSS, so PKCS#1 v1.5 stays the default.</summary>
public enum SignaturePadding { Pkcs1, Pss }

/// <summary>
/// Algorithms for one recipient's copy. The defaults are the classic set every S/MIME client
/// reads (gpgsm 2.2 cannot read OAEP or PSS); stronger choices are opt-in by policy.
/// </summary>
public sealed record CryptoSettings(
    ContentEncryption ContentEncryption = ContentEncryption.Aes256Cbc,
    KeyTransport KeyTransport = KeyTransport.RsaPkcs1,
    SignatureDigest Digest = SignatureDigest.Sha256,
    SignatureForm SignatureForm = SignatureForm.Detached,
    SignaturePadding SignaturePadding = SignaturePadding.Pkcs1)
{
    public static CryptoSettings Default { get; } = new();
}
