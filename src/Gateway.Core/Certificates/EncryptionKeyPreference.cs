using System.Formats.Asn1;
using System.Security.Cryptography;
using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Certificates;

/// <summary>
/// The signed SMIMEEncryptionKeyPreference attribute (RFC 8551 §2.5.3): which certificate the
/// signer wants mail encrypted to, when it is not the one that signed (a signing-only certificate
/// and an encryption certificate, as Outlook sends them). Read by issuer and serial number, or by
/// subject key identifier; the certificate itself must be among those the signature carries.
/// Without it, Microsoft's older attribute (1.3.6.1.4.1.311.16.4, an IssuerAndSerialNumber) is read,
/// as NSS does: older Outlook writes only that one.
/// </summary>
public static class EncryptionKeyPreference
{
    /// <returns>Whether the attribute is there, and the carried certificate it names (null when none matches or it cannot be read).</returns>
    public static (bool Named, X509Certificate2? Certificate) Find(SignerInfo signer, X509Certificate2Collection carried)
    {
        var attribute = Value(signer, Smime.SmimeOids.EncryptionKeyPreference);
        var microsoft = attribute is null;
        attribute ??= Value(signer, Smime.SmimeOids.MicrosoftEncryptionKeyPreference);
        if (attribute is null) return (false, null);
        try
        {
            var reader = new AsnReader(attribute.RawData, AsnEncodingRules.BER);
            var tag = reader.PeekTag();
            Func<X509Certificate2, bool>? matches = microsoft
                ? tag == Asn1Tag.Sequence ? ByIssuerAndSerial(reader.ReadSequence()) : null
                : tag.TagClass != TagClass.ContextSpecific ? null : tag.TagValue switch
                {
                    0 => ByIssuerAndSerial(reader.ReadSequence(tag)),
                    1 => BySubjectKeyIdentifier(reader.ReadSequence(tag).ReadOctetString()),
                    2 => BySubjectKeyIdentifier(reader.ReadOctetString(tag)),
                    _ => null,
                };
            return (true, matches is null ? null : carried.FirstOrDefault(matches));
        }
        catch (Exception e) when (e is AsnContentException or CryptographicException)
        {
            return (true, null); // unreadable: named, but no certificate can be told from it
        }
    }

    private static AsnEncodedData? Value(SignerInfo signer, string oid) =>
        signer.SignedAttributes.Cast<CryptographicAttributeObject>().FirstOrDefault(a => a.Oid.Value == oid)?.Values.Cast<AsnEncodedData>().FirstOrDefault();

    private static Func<X509Certificate2, bool> ByIssuerAndSerial(AsnReader sequence)
    {
        var issuer = sequence.ReadEncodedValue().ToArray();
        var serial = sequence.ReadIntegerBytes().ToArray().SkipWhile(b => b == 0).ToArray();
        return certificate => certificate.IssuerName.RawData.AsSpan().SequenceEqual(issuer)
            && certificate.SerialNumberBytes.ToArray().SkipWhile(b => b == 0).SequenceEqual(serial);
    }

    private static Func<X509Certificate2, bool> BySubjectKeyIdentifier(byte[] identifier) =>
        certificate => certificate.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault()?.SubjectKeyIdentifierBytes.Span.SequenceEqual(identifier) == true;
}
