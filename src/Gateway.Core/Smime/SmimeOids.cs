using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Policy;

namespace Gateway.Smime;

/// <summary>
/// The algorithm identifiers we write and read, and the one table of names the audit log uses for
/// them, outbound and inbound alike.
/// </summary>
internal static class SmimeOids
{
    public const string Aes128Cbc = "2.16.840.1.101.3.4.1.2";
    public const string Aes192Cbc = "2.16.840.1.101.3.4.1.22";
    public const string Aes256Cbc = "2.16.840.1.101.3.4.1.42";
    public const string Aes128Gcm = "2.16.840.1.101.3.4.1.6";
    public const string Aes192Gcm = "2.16.840.1.101.3.4.1.26";
    public const string Aes256Gcm = "2.16.840.1.101.3.4.1.46";
    public const string Aes128Wrap = "2.16.840.1.101.3.4.1.5";
    public const string Aes192Wrap = "2.16.840.1.101.3.4.1.25";
    public const string Aes256Wrap = "2.16.840.1.101.3.4.1.45";
    public const string RsaEncryption = "1.2.840.113549.1.1.1";
    public const string RsaesOaep = "1.2.840.113549.1.1.7";
    public const string Mgf1 = "1.2.840.113549.1.1.8";
    public const string EcPublicKey = "1.2.840.10045.2.1";
    public const string Sha1 = "1.3.14.3.2.26";

    // ECDH key agreement schemes of RFC 5753 §7.1.4 (the X9.63 KDF with this hash).
    public const string EcdhSha1Kdf = "1.3.133.16.840.63.0.2";
    public const string EcdhSha256Kdf = "1.3.132.1.11.1";
    public const string EcdhSha384Kdf = "1.3.132.1.11.2";
    public const string EcdhSha512Kdf = "1.3.132.1.11.3";
    public const string SmimeCapabilities = "1.2.840.113549.1.9.15";
    public const string EncryptionKeyPreference = "1.2.840.113549.1.9.16.2.11";
    /// <summary>id-aa-signingCertificateV2, RFC 5035 §3.</summary>
    public const string SigningCertificateV2 = "1.2.840.113549.1.9.16.2.47";
    /// <summary>id-aa-signingCertificate, RFC 2634 §5.4: the same with a SHA-1 hash.</summary>
    public const string SigningCertificate = "1.2.840.113549.1.9.16.2.12";
    /// <summary>Microsoft's older form of the same attribute (an IssuerAndSerialNumber), which Outlook and Thunderbird write beside it.</summary>
    public const string MicrosoftEncryptionKeyPreference = "1.3.6.1.4.1.311.16.4";

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
    public static bool HasRsaKey(X509Certificate2 certificate) =>
        certificate.GetKeyAlgorithm() == RsaEncryption;

    /// <summary>True when the certificate's key is id-ecPublicKey (encrypted to by ECDH key agreement), without importing it.</summary>
    public static bool HasEcKey(X509Certificate2 certificate) =>
        certificate.GetKeyAlgorithm() == EcPublicKey;

    /// <summary>The audit's name of an algorithm identifier; the OID itself for one not in the table.</summary>
    public static string NameOf(string? oid) => oid switch
    {
        Aes128Cbc => "aes-128-cbc",
        Aes192Cbc => "aes-192-cbc",
        Aes256Cbc => "aes-256-cbc",
        Aes128Gcm => "aes-128-gcm",
        Aes192Gcm => "aes-192-gcm",
        Aes256Gcm => "aes-256-gcm",
        "1.2.840.113549.3.7" => "des-ede3-cbc",
        "1.2.840.113549.3.2" => "rc2-cbc",
        RsaEncryption => "rsaes-pkcs1-v1_5",
        RsaesOaep => "rsaes-oaep",
        EcdhSha1Kdf => "ecdh-sha1kdf",
        EcdhSha256Kdf => "ecdh-sha256kdf",
        EcdhSha384Kdf => "ecdh-sha384kdf",
        EcdhSha512Kdf => "ecdh-sha512kdf",
        Aes128Wrap => "aes128wrap",
        Aes192Wrap => "aes192wrap",
        Aes256Wrap => "aes256wrap",
        _ => oid ?? "unknown",
    };

    /// <summary>The key length in bytes of an AES content cipher or key wrap; 0 for anything else.</summary>
    public static int AesKeyLength(string? oid) => oid switch
    {
        Aes128Cbc or Aes128Gcm or Aes128Wrap => 16,
        Aes192Cbc or Aes192Gcm or Aes192Wrap => 24,
        Aes256Cbc or Aes256Gcm or Aes256Wrap => 32,
        _ => 0,
    };

    public static bool IsAesCbc(string? oid) => oid is Aes128Cbc or Aes192Cbc or Aes256Cbc;

    public static bool IsAesGcm(string? oid) => oid is Aes128Gcm or Aes192Gcm or Aes256Gcm;

    /// <summary>The X9.63 KDF hash of an ECDH key agreement scheme; null for one not supported.</summary>
    public static HashAlgorithmName? KdfHash(string? scheme) => scheme switch
    {
        EcdhSha1Kdf => HashAlgorithmName.SHA1,
        EcdhSha256Kdf => HashAlgorithmName.SHA256,
        EcdhSha384Kdf => HashAlgorithmName.SHA384,
        EcdhSha512Kdf => HashAlgorithmName.SHA512,
        _ => null,
    };

    /// <summary>"keyAgreement:ecdh-sha256kdf-aes128wrap": the scheme and the key wrap, as both directions name them.</summary>
    public static string KeyAgreementName(string? scheme, string? wrap) => $"keyAgreement:{NameOf(scheme)}-{NameOf(wrap)}";

    /// <summary>"keyTransport:rsaes-oaep-sha256", with the OAEP hash, as both directions name it.</summary>
    public static string KeyTransportName(RSAEncryptionPadding? padding, string? oid) =>
        "keyTransport:" + (padding is { Mode: RSAEncryptionPaddingMode.Oaep } oaep
            ? $"rsaes-oaep-{oaep.OaepHashAlgorithm.Name!.ToLowerInvariant()}"
            : NameOf(oid));

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

    public static string Name(ContentEncryption algorithm) => NameOf(ContentEncryption(algorithm));

    public static string Name(KeyTransport transport) => transport == KeyTransport.RsaOaepSha256 ? "rsaes-oaep-sha256" : "rsaes-pkcs1-v1_5";

    public static string Name(SignatureDigest digest) => Micalg(digest).Replace("-", "", StringComparison.Ordinal);
}
