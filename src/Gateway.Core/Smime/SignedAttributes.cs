using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Smime;

/// <summary>
/// The signed attributes a recipient's client needs to answer encrypted: which ciphers we read
/// (SMIMECapabilities, RFC 8551 §2.5.2) and which certificate to encrypt to
/// (SMIMEEncryptionKeyPreference, §2.5.3), as Outlook and Thunderbird expect; and the signer's
/// certificate itself under the signature (ESS signingCertificateV2, RFC 5035).
/// </summary>
internal static class SignedAttributes
{
    /// <summary>What every client reads: a partner following the list must not answer in what the user's own client cannot open.</summary>
    private static readonly string[] Capabilities =
    [
        SmimeOids.Aes256Cbc, SmimeOids.Aes192Cbc, SmimeOids.Aes128Cbc, SmimeOids.RsaEncryption,
    ];

    /// <summary>
    /// What the gateway's inbound endpoint reads and a user's own client may not (gpgsm 2.2 reads
    /// neither): AES-GCM first (RFC 8551 §2.7.1.1: the list is in order of preference), RSA-OAEP
    /// before PKCS#1 v1.5.
    /// </summary>
    private static readonly string[] CapabilitiesWhenDecrypting =
    [
        SmimeOids.Aes256Gcm, SmimeOids.Aes128Gcm, SmimeOids.Aes256Cbc, SmimeOids.Aes192Cbc, SmimeOids.Aes128Cbc, SmimeOids.RsaesOaep, SmimeOids.RsaEncryption,
    ];

    private static readonly byte[] CapabilitiesDer = EncodeCapabilities(Capabilities);
    private static readonly byte[] CapabilitiesWhenDecryptingDer = EncodeCapabilities(CapabilitiesWhenDecrypting);

    /// <summary>
    /// signingTime (RFC 5652 §11.3): UTCTime for 1950 to 2049, GeneralizedTime otherwise, in whole
    /// seconds of UTC. (.NET's Pkcs9SigningTime refuses dates from 2050 on; a UTCTime written for
    /// them would read back as 19xx.)
    /// </summary>
    public static AsnEncodedData SigningTime(DateTimeOffset now)
    {
        var utc = now.ToUniversalTime();
        utc = utc.AddTicks(-(utc.Ticks % TimeSpan.TicksPerSecond));
        var writer = new AsnWriter(AsnEncodingRules.DER);
        if (utc.Year is >= 1950 and <= 2049) writer.WriteUtcTime(utc, twoDigitYearMax: 2049);
        else writer.WriteGeneralizedTime(utc, omitFractionalSeconds: true);
        return new AsnEncodedData(new Oid(SmimeOids.SigningTime), writer.Encode());
    }


    /// <param name="decryptsReplies">Say that replies may use AES-GCM and RSA-OAEP: only when the gateway decrypts inbound mail for its users (<see cref="SmimeRequest.DecryptsReplies"/>).</param>
    public static AsnEncodedData SmimeCapabilities(bool decryptsReplies) =>
        new(new Oid(SmimeOids.SmimeCapabilities), decryptsReplies ? CapabilitiesWhenDecryptingDer : CapabilitiesDer);

    public static AsnEncodedData EncryptionKeyPreference(X509Certificate2 certificate) =>
        // SMIMEEncryptionKeyPreference ::= CHOICE { issuerAndSerialNumber [0] IMPLICIT IssuerAndSerialNumber, ... }
        new(new Oid(SmimeOids.EncryptionKeyPreference), IssuerAndSerialNumber(certificate, new Asn1Tag(TagClass.ContextSpecific, 0, isConstructed: true)));

    /// <summary>
    /// Microsoft's form of the same: a plain IssuerAndSerialNumber. Outlook and Thunderbird (NSS)
    /// write both, and older Outlook reads only this one to find a dual-key sender's encryption certificate.
    /// </summary>
    public static AsnEncodedData MicrosoftEncryptionKeyPreference(X509Certificate2 certificate) =>
        new(new Oid(SmimeOids.MicrosoftEncryptionKeyPreference), IssuerAndSerialNumber(certificate, Asn1Tag.Sequence));

    /// <summary>
    /// ESS signingCertificateV2 (RFC 5035 §3): the SHA-256 hash of the signer's certificate and its
    /// issuer and serial, signed with the rest. The SignerInfo only names the certificate by issuer
    /// and serial, outside what is signed: without this, a verifier could be handed another
    /// certificate under the same name and serial (RFC 5035 §1, substitution). OpenSSL 3 compares
    /// it with the certificate it verifies with (`cms -verify`); readers that do not know it skip it.
    /// </summary>
    public static AsnEncodedData SigningCertificateV2(X509Certificate2 signer)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence()) // SigningCertificateV2 { certs, no policies }
        using (writer.PushSequence()) // certs: SEQUENCE OF ESSCertIDv2, the signer's first (and only)
        using (writer.PushSequence()) // ESSCertIDv2; hashAlgorithm is DEFAULT id-sha256, so DER leaves it out
        {
            writer.WriteOctetString(SHA256.HashData(signer.RawDataMemory.Span));
            using (writer.PushSequence()) // IssuerSerial { issuer GeneralNames, serialNumber }
            {
                using (writer.PushSequence())
                using (writer.PushSequence(new Asn1Tag(TagClass.ContextSpecific, 4, isConstructed: true))) // directoryName [4] Name: explicit, Name is a CHOICE
                    writer.WriteEncodedValue(signer.IssuerName.RawData);
                writer.WriteInteger(signer.SerialNumberBytes.Span);
            }
        }
        return new AsnEncodedData(new Oid(SmimeOids.SigningCertificateV2), writer.Encode());
    }

    private static byte[] IssuerAndSerialNumber(X509Certificate2 certificate, Asn1Tag tag)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence(tag))
        {
            writer.WriteEncodedValue(certificate.IssuerName.RawData);
            writer.WriteInteger(certificate.SerialNumberBytes.Span);
        }
        return writer.Encode();
    }

    private static byte[] EncodeCapabilities(string[] capabilities)
    {
        var writer = new AsnWriter(AsnEncodingRules.DER);
        using (writer.PushSequence())
        {
            foreach (var oid in capabilities)
            {
                using (writer.PushSequence())
                    writer.WriteObjectIdentifier(oid);
            }
        }
        return writer.Encode();
    }
}
