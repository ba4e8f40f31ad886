using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ca;

/// <summary>
/// One PKCS#12 with every key and certificate the issuer ever gave an address (current, renewed,
/// revoked: an old key is what reads the mail encrypted to its certificate), plus the CA chain
/// without any CA key, encrypted with AES-256 under the password the admin chose, mode 0600.
/// This is what the user imports into a mail client to read all of their encrypted mail.
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
        PrivateFiles.Write(Path.GetFullPath(file), bundle.ExportPkcs12(IssuedIdentityStore.KeyProtection, password));
        return identities;
    }
}
