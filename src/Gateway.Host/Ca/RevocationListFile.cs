using System.Globalization;
using System.Numerics;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gateway.Ca;

/// <summary>
/// ca.crl in Ca:Path (DER, next update in 7 days) and crl-number beside it, the last CRL number
/// used. RFC 5280 (5.2.3) wants a CA's CRL numbers strictly increasing, also when nothing was
/// revoked in between, so the number is a counter kept on disk, not derived from the entries.
/// Callers hold the CA's revocation lock, so the service and a <c>gateway ca</c> command never
/// take the same number.
/// </summary>
internal sealed class RevocationListFile(string root)
{
    public static readonly TimeSpan NextUpdateAfter = TimeSpan.FromDays(7);

    public string CrlPath => Path.Combine(root, "ca.crl");
    private string NumberPath => Path.Combine(root, "crl-number");

    /// <summary>The CRL's bytes and number; nothing is written, so a CA that cannot sign a CRL changes no file.</summary>
    public (byte[] Crl, BigInteger Number) Build(X509Certificate2 ca, IEnumerable<RevocationRecord> records, DateTimeOffset now)
    {
        // Checked here for a message that names the file: a CA copied into Ca:Path by hand was never checked by `gateway ca import`.
        if (ca.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is { } usage && !usage.KeyUsages.HasFlag(X509KeyUsageFlags.CrlSign))
            throw new CryptographicException($"{Path.Combine(root, "ca.p12")}: the CA certificate's key usage does not allow signing CRLs (cRLSign), so no CRL can be published");
        var builder = new CertificateRevocationListBuilder();
        // RFC 5280 5.3.1 and the S/MIME BR: no reasonCode at all rather than "unspecified".
        foreach (var record in records)
            builder.AddEntry(Convert.FromHexString(record.Serial), record.RevokedAt, record.Reason == X509RevocationReason.Unspecified ? null : record.Reason);
        // An imported company CA may have an EC key: the RSA padding applies to RSA keys only.
        using var rsa = ca.GetRSAPublicKey();
        var number = LastNumber() + 1;
        var crl = builder.Build(ca, number, now + NextUpdateAfter, SmimeCertificateProfile.SignatureHash(ca), rsa is null ? null : RSASignaturePadding.Pkcs1, now);
        return (crl, number);
    }

    public void Write(byte[] crl, BigInteger number)
    {
        // The counter first: a crash between the two leaves a number unused, never one used twice.
        PrivateFiles.Write(NumberPath, Encoding.ASCII.GetBytes(number.ToString(CultureInfo.InvariantCulture) + "\n"));
        PrivateFiles.Write(CrlPath, crl);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(CrlPath, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    /// <summary>
    /// The counter, or, for a CA folder from before it existed, the number of the ca.crl there
    /// (then numbered by its entries), so the first number written is above every one published.
    /// </summary>
    private BigInteger LastNumber()
    {
        if (File.Exists(NumberPath))
        {
            return BigInteger.TryParse(File.ReadAllText(NumberPath).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var last)
                ? last
                : throw new InvalidDataException($"{NumberPath}: not a CRL number; write the number of the last CRL published (openssl crl -text shows it) into it");
        }
        if (!File.Exists(CrlPath)) return BigInteger.Zero;
        try
        {
            CertificateRevocationListBuilder.Load(File.ReadAllBytes(CrlPath), out var published);
            return published;
        }
        catch (Exception e) when (e is CryptographicException or System.Formats.Asn1.AsnContentException)
        {
            return BigInteger.Zero; // not a CRL: nothing was published under a number worth keeping above
        }
    }
}
