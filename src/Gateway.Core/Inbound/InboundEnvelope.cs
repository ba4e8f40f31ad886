using System.Formats.Asn1;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Inbound;

/// <summary>
/// An inbound CMS envelope as <see cref="EnvelopeOpener"/> needs it, whichever kind:
/// EnvelopedData (<see cref="EnvelopedDataReader"/>, or <see cref="KeyAgreementEnvelopedDataReader"/>
/// when it has ECDH key agreement) or AES-GCM AuthEnvelopedData (<see cref="AuthEnvelopedDataReader"/>). Its recipient infos are asked which certificate
/// each names, and opened one at a time with a key, so that each envelope recipient proves its
/// own key opens the same content.
/// </summary>
public abstract class InboundEnvelope
{
    public const string DataOid = "1.2.840.113549.1.7.1";
    public const string AuthEnvelopedDataOid = "1.2.840.113549.1.9.16.1.23";

    /// <summary>The recipient infos, every kind counted (only key transport ones can be ours).</summary>
    public abstract int RecipientCount { get; }

    /// <summary>True when the content cannot be changed unnoticed (GCM's tag): no signature is needed to trust that it is what was sent.</summary>
    public abstract bool IsAuthenticated { get; }

    /// <summary>The content cipher, as the audit names it ("aes-256-gcm").</summary>
    public abstract string ContentCipher { get; }

    public abstract bool Names(int recipient, X509Certificate2 certificate);

    /// <summary>"keyTransport:rsaes-oaep" and the like, for the audit.</summary>
    public abstract string KeyManagement(int recipient);

    /// <summary>The decrypted content (an id-data payload), or why the key does not open it.</summary>
    public abstract (byte[]? Content, string? Problem) Open(int recipient, X509Certificate2 key);

    /// <summary>The reader for <paramref name="der"/>'s content type, or why it cannot be read.</summary>
    public static (InboundEnvelope? Envelope, string? Problem) Decode(byte[] der)
    {
        string? contentType;
        try
        {
            contentType = new AsnReader(der, AsnEncodingRules.BER).ReadSequence().ReadObjectIdentifier();
        }
        catch (AsnContentException)
        {
            return EnvelopedDataReader.Decode(der); // which says why, as for any EnvelopedData it cannot read
        }
        if (contentType == AuthEnvelopedDataOid) return AuthEnvelopedDataReader.Decode(der);
        // EnvelopedCms opens key transport and every cipher it knows; key agreement to EC keys only this project's reader.
        // A key-agreement envelope this reader cannot open (another cipher) still goes to EnvelopedCms, for its key transport recipients.
        var (agreement, _) = KeyAgreementEnvelopedDataReader.Decode(der);
        return agreement is not null ? (agreement, null) : EnvelopedDataReader.Decode(der);
    }

    internal static string AlgorithmName(string? oid) => oid switch
    {
        "2.16.840.1.101.3.4.1.2" => "aes-128-cbc",
        "2.16.840.1.101.3.4.1.22" => "aes-192-cbc",
        "2.16.840.1.101.3.4.1.42" => "aes-256-cbc",
        "2.16.840.1.101.3.4.1.6" => "aes-128-gcm",
        "2.16.840.1.101.3.4.1.26" => "aes-192-gcm",
        "2.16.840.1.101.3.4.1.46" => "aes-256-gcm",
        "1.2.840.113549.3.7" => "des-ede3-cbc",
        "1.2.840.113549.3.2" => "rc2-cbc",
        "1.2.840.113549.1.1.1" => "rsaes-pkcs1-v1_5",
        "1.2.840.113549.1.1.7" => "rsaes-oaep",
        "1.3.133.16.840.63.0.2" => "ecdh-sha1kdf",
        "1.3.132.1.11.1" => "ecdh-sha256kdf",
        "1.3.132.1.11.2" => "ecdh-sha384kdf",
        "1.3.132.1.11.3" => "ecdh-sha512kdf",
        _ => oid ?? "unknown",
    };
}
