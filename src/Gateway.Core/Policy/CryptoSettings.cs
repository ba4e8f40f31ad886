using System.Text.Json.Serialization;

namespace Gateway.Policy;

/// <summary>
/// The content cipher. The GCM ones are authenticated (CMS AuthEnvelopedData, RFC 5083/5084): a
/// changed byte makes decryption fail instead of yielding altered plaintext (EFAIL's CBC gadgets).
/// </summary>
public enum ContentEncryption { Aes256Cbc, Aes128Cbc, Aes256Gcm, Aes128Gcm }

/// <summary>
/// WhenAdvertised: a copy is encrypted with AES-GCM instead of the rule's CBC cipher when every
/// certificate it goes to came with SMIMECapabilities that put AES-GCM before the CBC ciphers we
/// write (its owner's client prefers it, RFC 8551 §2.7.1.1). Never: the rule's cipher always.
/// </summary>
public enum AuthenticatedEncryption { WhenAdvertised, Never }

public enum KeyTransport { RsaPkcs1, RsaOaepSha256 }

public enum SignatureDigest { Sha256, Sha384, Sha512 }

/// <summary>Detached: multipart/signed, readable without S/MIME support. Opaque: application/pkcs7-mime signed-data.</summary>
public enum SignatureForm { Detached, Opaque }

/// <summary>RSA signature padding. gpgsm 2.2 cannot verify PSS, so PKCS#1 v1.5 stays the default.</summary>
public enum SignaturePadding { Pkcs1, Pss }

/// <summary>
/// RFC 9788 header protection. None: the header fields are only where they always were, outside.
/// Protected: they are also copied into the signed and encrypted part (<c>hp="clear"</c> or
/// <c>hp="cipher"</c>), so a client that reads them knows they are the sender's and unchanged;
/// nothing changes outside. HideSubject: as Protected, and an encrypted copy goes with
/// <c>Subject: [...]</c> outside (the RFC's hcp_baseline, which also drops Keywords and Comments),
/// the real Subject inside and at the top of its text for clients that do not read protected headers.
/// </summary>
public enum HeaderProtection { None, Protected, HideSubject }

/// <summary>
/// Algorithms for one recipient's copy. The defaults are the classic set every S/MIME client
/// reads (gpgsm 2.2 cannot read OAEP or PSS); stronger choices are opt-in by policy.
/// </summary>
public sealed record CryptoSettings(
    ContentEncryption ContentEncryption = ContentEncryption.Aes256Cbc,
    KeyTransport KeyTransport = KeyTransport.RsaPkcs1,
    SignatureDigest Digest = SignatureDigest.Sha256,
    SignatureForm SignatureForm = SignatureForm.Detached,
    SignaturePadding SignaturePadding = SignaturePadding.Pkcs1,
    AuthenticatedEncryption AuthenticatedEncryption = AuthenticatedEncryption.WhenAdvertised,
    HeaderProtection HeaderProtection = HeaderProtection.None)
{
    public static CryptoSettings Default { get; } = new();

    /// <summary>AES-GCM in AuthEnvelopedData rather than AES-CBC in EnvelopedData.</summary>
    [JsonIgnore]
    public bool IsAuthenticated => ContentEncryption is ContentEncryption.Aes256Gcm or ContentEncryption.Aes128Gcm;
}
