namespace Gateway.Policy;

public enum ContentEncryption { Aes256Cbc, Aes128Cbc }

public enum KeyTransport { RsaPkcs1, RsaOaepSha256 }

public enum SignatureDigest { Sha256, Sha384, Sha512 }

/// <summary>
/// Algorithms for one recipient's copy. The defaults are the classic set every S/MIME client
/// reads (gpgsm 2.2 cannot read OAEP); stronger choices are opt-in by policy.
/// </summary>
public sealed record CryptoSettings(
    ContentEncryption ContentEncryption = ContentEncryption.Aes256Cbc,
    KeyTransport KeyTransport = KeyTransport.RsaPkcs1,
    SignatureDigest Digest = SignatureDigest.Sha256)
{
    public static CryptoSettings Default { get; } = new();
}
