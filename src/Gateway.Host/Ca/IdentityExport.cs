using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ca;

/// <summary>
/// One PKCS#12 with every key and certificate the issuer ever gave an address (current, renewed,
/// revoked: an old key is what reads the mail encrypted to its certificate), plus the CA chain
/// without any CA key, encrypted with AES-256 under the password the admin chose, mode 0600.
/// This is what the user imports into a mail client to read all of their encrypted mail.
/// An existing file is never replaced.
/// </summary>
public static class IdentityExport
{
    public static IReadOnlyList<IssuedIdentity> Write(ICertificateIssuer issuer, string address, string file, string password)
    {
        var identities = issuer.IssuedTo(address).OrderBy(i => i.Certificate.NotBefore).ToList();
        if (identities.Count == 0) return identities;
        var bundle = new X509Certificate2Collection(identities.Select(i => i.Certificate).ToArray());
        // Public certificates only: the issuer's chain holds the CA's own key, which never leaves.
        foreach (var authority in issuer.Chain) bundle.Add(X509CertificateLoader.LoadCertificate(authority.RawData));
        // Made between the command's check and now, the file is still not replaced.
        if (!PrivateFiles.WriteNew(Path.GetFullPath(file), bundle.ExportPkcs12(Protection(identities.Count), password)))
            throw new IOException($"{Path.GetFullPath(file)} exists");
        return identities;
    }

    /// <summary>
    /// .NET refuses to load a PKCS#12 whose PBKDF2 iterations add up to more than 1,000,000
    /// (Pkcs12LoaderLimits.TotalKdfIterationLimit), and mail clients on .NET keep that default.
    /// Each key bag, the encrypted certificates and the MAC are derived separately, so the file
    /// holds keys + 2 derivations: they share 900,000 (room to spare), at most the 200,000 of one
    /// key at rest, and never below 10,000 (from 89 keys on), still ten times NIST SP 800-132's
    /// minimum. Past 98 keys the total exceeds .NET's default again; openssl still reads such a file.
    /// </summary>
    public static PbeParameters Protection(int keys)
    {
        var iterations = Math.Clamp(900_000 / (keys + 2), 10_000, IssuedIdentityStore.KeyProtection.IterationCount);
        return new PbeParameters(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, iterations);
    }
}
