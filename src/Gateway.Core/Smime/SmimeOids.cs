using Gateway.Policy;

namespace Gateway.Smime;

/// <summary>The algorithm identifiers we write, and the names the audit log uses for them.</summary>
internal static class SmimeOids
{
    public const string Aes128Cbc = "2.16.840.1.101.3.4.1.2";
    public const string Aes192Cbc = "2.16.840.1.101.3.4.1.22";
    public const string Aes256Cbc = "2.16.840.1.101.3.4.1.42";
    public const string Aes128Gcm = "2.16.840.1.101.3.4.1.6";
    public const string Aes256Gcm = "2.16.840.1.101.3.4.1.46";
    public const string RsaEncryption = "1.2.840.113549.1.1.1";
    public const string RsaesOaep = "1.2.840.113549.1.1.7";
    public const string SmimeCapabilities = "1.2.840.113549.1.9.15";
    public const string EncryptionKeyPreference = "1.2.840.113549.1.9.16.2.11";

    // CMS content types and signed attributes (RFC 5652 §4, §5, §6, §11).
    public const string Data = "1.2.840.113549.1.7.1";
    public const string SignedData = "1.2.840.113549.1.7.2";
    public const string EnvelopedData = "1.2.840.113549.1.7.3";
    public const string AuthEnvelopedData = "1.2.840.113549.1.9.16.1.23";
    public const string ContentType = "1.2.840.113549.1.9.3";
    public const string MessageDigest = "1.2.840.113549.1.9.4";
    public const string SigningTime = "1.2.840.113549.1.9.5";

    /// <summary>
    /// True when the certificate's key is rsaEncryption, exactly when GetRSAPublicKey() would return a key, without
    /// importing it: an RSA public key import costs OpenSSL 3 about 0.1 ms, half a signature.
    /// </summary>
    public static bool HasRsaKey(System.Security.Cryptography.X509Certificates.X509Certificate2 certificate) =>
        certificate.GetKeyAlgorithm() == RsaEncryption;

    public static string ContentEncryption(ContentEncryption algorithm) => algorithm switch
    {
        Policy.ContentEncryption.Aes128Cbc => Aes128Cbc,
        Policy.ContentEncryption.Aes128Gcm => Aes128Gcm,
        Policy.ContentEncryption.Aes256Gcm => Aes256Gcm,
        _ => Aes256Cbc,
    };

    public static string Digest(SignatureDigest digest) => digest switch
    {
        SignatureDigest.Sha384 => "2.16.840.1.101.3.4.2.2",
        SignatureDigest.Sha512 => "2.16.840.1.101.3.4.2.3",
        _ => "2.16.840.1.101.3.4.2.1",
    };

    /// <summary>The micalg parameter of multipart/signed (RFC 8551 §3.5.3.2).</summary>
    public static string Micalg(SignatureDigest digest) => digest switch
    {
        SignatureDigest.Sha384 => "sha-384",
        SignatureDigest.Sha512 => "sha-512",
        _ => "sha-256",
    };

    public static string Name(ContentEncryption algorithm) => algorithm switch
    {
        Policy.ContentEncryption.Aes128Cbc => "aes-128-cbc",
        Policy.ContentEncryption.Aes128Gcm => "aes-128-gcm",
        Policy.ContentEncryption.Aes256Gcm => "aes-256-gcm",
        _ => "aes-256-cbc",
    };

    public static string Name(KeyTransport transport) => transport == KeyTransport.RsaOaepSha256 ? "rsaes-oaep-sha256" : "rsaes-pkcs1-v1_5";

    public static string Name(SignatureDigest digest) => Micalg(digest).Replace("-", "", StringComparison.Ordinal);
}
