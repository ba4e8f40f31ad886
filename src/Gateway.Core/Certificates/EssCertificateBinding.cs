using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using Gateway.Policy;
using Gateway.Smime;

namespace Gateway.Certificates;

/// <summary>
/// Whether a signature that signs its signer's certificate (ESS signingCertificateV2, RFC 5035,
/// or the older signingCertificate, RFC 2634) signs the one it carries. The SignerInfo names its
/// certificate only by issuer and serial, outside what is signed: a certificate with the same
/// issuer, serial and key but other contents (another usage, another name) verifies the signature
/// all the same, and harvested it would be encrypted to. A signature without the attribute binds
/// nothing, and is judged as before.
/// </summary>
public static class EssCertificateBinding
{
    /// <summary>Why the signature's attribute does not name <paramref name="signer"/>; null when it does, or has none.</summary>
    public static string? Mismatch(SignerInfo signerInfo, X509Certificate2 signer)
    {
        foreach (var attribute in signerInfo.SignedAttributes)
        {
            var v2 = attribute.Oid.Value == SmimeOids.SigningCertificateV2;
            if (!v2 && attribute.Oid.Value != SmimeOids.SigningCertificate) continue;
            var name = v2 ? "signingCertificateV2" : "signingCertificate";
            if (attribute.Values.Count != 1) return $"its {name} attribute has {attribute.Values.Count} values, not one";
            try
            {
                if (!Names(attribute.Values[0].RawData, v2, signer))
                    return $"its {name} attribute signs another certificate than the one it carries for its signer (a substituted certificate, RFC 5035)";
            }
            catch (Exception e) when (e is AsnContentException or CryptographicException)
            {
                return $"its {name} attribute cannot be read";
            }
        }
        return null;
    }

    /// <summary>Whether the first ESSCertID(v2), the signer's by RFC 5035 §5.4.1, names <paramref name="signer"/>.</summary>
    private static bool Names(byte[] value, bool v2, X509Certificate2 signer)
    {
        var signingCertificate = new AsnReader(value, AsnEncodingRules.BER).ReadSequence();
        var certificates = signingCertificate.ReadSequence();
        var first = certificates.ReadSequence();
        var hash = v2 ? HashAlgorithmName.SHA256 : HashAlgorithmName.SHA1;
        if (v2 && first.PeekTag() == Asn1Tag.Sequence)
        {
            var algorithm = first.ReadSequence().ReadObjectIdentifier();
            hash = algorithm switch
            {
                _ when algorithm == SmimeOids.Digest(SignatureDigest.Sha256) => HashAlgorithmName.SHA256,
                _ when algorithm == SmimeOids.Digest(SignatureDigest.Sha384) => HashAlgorithmName.SHA384,
                _ when algorithm == SmimeOids.Digest(SignatureDigest.Sha512) => HashAlgorithmName.SHA512,
                _ => throw new CryptographicException($"unknown hash {algorithm}"),
            };
        }
        var certificateHash = first.ReadOctetString();
        if (!certificateHash.AsSpan().SequenceEqual(CryptographicOperations.HashData(hash, signer.RawDataMemory.Span))) return false;
        if (!first.HasData) return true;
        // IssuerSerial: the hash already pins the certificate; the serial must agree with it.
        var issuerSerial = first.ReadSequence();
        issuerSerial.ReadSequence(); // GeneralNames
        return issuerSerial.ReadIntegerBytes().Span.SequenceEqual(signer.SerialNumberBytes.Span);
    }
}
