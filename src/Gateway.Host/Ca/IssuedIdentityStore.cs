using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Ca;

/// <summary>
/// The folder identities/ADDRESS/SERIAL.p12 of an issuer: every key it ever issued, each
/// PKCS#12 encrypted with AES-256 under the CA password, mode 0600, and beside it SERIAL.crt, its
/// certificate alone (public), so the certificates can be listed without decrypting every key
/// (200,000 PBKDF2 rounds each). Nothing is ever deleted: an older key still decrypts the mail
/// that was encrypted to its certificate. The folder is the truth (the CLI may add files while
/// the gateway runs); memory only saves decrypting a file twice.
/// </summary>
internal sealed class IssuedIdentityStore(string root, string password)
{
    public static readonly PbeParameters KeyProtection = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 200_000);
    private readonly Dictionary<string, List<IssuedIdentity>> _loaded = new(StringComparer.Ordinal);

    private string Folder => Path.Combine(root, "identities");

    public IReadOnlyList<IssuedIdentity> For(string address)
    {
        lock (_loaded) return Refresh(Key(address), Mail.MailAddress.LookupKey(address)).ToList();
    }

    /// <summary>
    /// The identity with this serial, found by its file name (identities/*/SERIAL.p12), so no
    /// other key is decrypted to find it; empty when there is none.
    /// </summary>
    public IReadOnlyList<IssuedIdentity> WithSerial(string serial)
    {
        if (serial.Length == 0 || !serial.All(char.IsAsciiHexDigit) || !Directory.Exists(Folder)) return [];
        var name = serial.ToUpperInvariant() + ".p12"; // as Add names it: X509Certificate2.SerialNumber is upper-case hex
        lock (_loaded)
        {
            return Directory.EnumerateDirectories(Folder)
                .Where(d => File.Exists(Path.Combine(d, name)))
                .Select(d => Load(Path.GetFileName(d), Uri.UnescapeDataString(Path.GetFileName(d)), Path.Combine(d, name)))
                .ToList();
        }
    }

    /// <summary>Writes the identity (certificate and key) and returns it as read back from its file.</summary>
    public IssuedIdentity Add(string address, X509Certificate2 withKey)
    {
        var file = Path.Combine(Folder, Key(address), withKey.SerialNumber + ".p12");
        PrivateFiles.Write(file, withKey.ExportPkcs12(KeyProtection, password));
        TryWriteCertificate(file, withKey);
        lock (_loaded) return Refresh(Key(address), Mail.MailAddress.LookupKey(address)).Single(i => i.File == file);
    }

    private List<IssuedIdentity> Refresh(string key, string address)
    {
        var folder = Path.Combine(Folder, key);
        // Nothing is remembered for an address without a folder: inbound mail asks for any address.
        if (!_loaded.TryGetValue(key, out var list))
        {
            if (!Directory.Exists(folder)) return [];
            _loaded[key] = list = [];
        }
        if (!Directory.Exists(folder)) return list;
        foreach (var file in Directory.EnumerateFiles(folder, "*.p12").Order(StringComparer.Ordinal)) Load(key, address, file);
        return list;
    }

    /// <summary>One identity file, decrypted once and then kept.</summary>
    private IssuedIdentity Load(string key, string address, string file)
    {
        if (!_loaded.TryGetValue(key, out var list)) _loaded[key] = list = [];
        if (list.FirstOrDefault(i => i.File == file) is { } known) return known;
        var identity = new IssuedIdentity(address, X509CertificateLoader.LoadPkcs12FromFile(file, password, X509KeyStorageFlags.EphemeralKeySet), file);
        list.Add(identity);
        // Identities issued before the certificates were kept beside their keys get theirs when first decrypted.
        if (!File.Exists(Path.ChangeExtension(file, ".crt"))) TryWriteCertificate(file, identity.Certificate);
        return identity;
    }

    /// <summary>
    /// The certificates issued to one address, from the SERIAL.crt beside each key: no key is
    /// decrypted (each costs 200,000 PBKDF2 rounds, and recipient lookups ask this). A key whose
    /// certificate file is missing or unreadable is read whole, once; one that cannot be read either
    /// is left out, and the others still count.
    /// </summary>
    public IReadOnlyList<X509Certificate2> CertificatesFor(string address)
    {
        var key = Key(address);
        var folder = Path.Combine(Folder, key);
        if (!Directory.Exists(folder)) return [];
        var found = new List<X509Certificate2>();
        foreach (var file in Directory.EnumerateFiles(folder, "*.p12").Order(StringComparer.Ordinal))
        {
            if (CertificateBeside(file) is { } certificate)
            {
                found.Add(certificate);
                continue;
            }
            try
            {
                lock (_loaded) found.Add(Load(key, Mail.MailAddress.LookupKey(address), file).Certificate);
            }
            catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }

    /// <summary>
    /// Every issued certificate, read from the SERIAL.crt files: no issued key is decrypted. The
    /// serials of identities without a readable one (issued by an older version and not used
    /// since, or a file a full disk cut short) are in <paramref name="withoutCertificateFile"/>.
    /// </summary>
    public IReadOnlyList<(string Address, X509Certificate2 Certificate)> Certificates(out List<string> withoutCertificateFile)
    {
        withoutCertificateFile = [];
        var found = new List<(string, X509Certificate2)>();
        if (!Directory.Exists(Folder)) return found;
        foreach (var folder in Directory.EnumerateDirectories(Folder))
        {
            var address = Uri.UnescapeDataString(Path.GetFileName(folder));
            foreach (var key in Directory.EnumerateFiles(folder, "*.p12").Order(StringComparer.Ordinal))
            {
                if (CertificateBeside(key) is { } certificate) found.Add((address, certificate));
                else withoutCertificateFile.Add(Path.GetFileNameWithoutExtension(key));
            }
        }
        return found;
    }

    /// <summary>The SERIAL.crt beside a key file; null when it is missing or cannot be read.</summary>
    private static X509Certificate2? CertificateBeside(string key)
    {
        try
        {
            return X509CertificateLoader.LoadCertificateFromFile(Path.ChangeExtension(key, ".crt"));
        }
        catch (Exception e) when (e is IOException or CryptographicException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>
    /// The certificate beside its key, written whole or not at all (a temporary file renamed). Only a
    /// convenience for listing: a failure to write it never fails the issuance or the use of the key.
    /// </summary>
    private static void TryWriteCertificate(string keyFile, X509Certificate2 certificate)
    {
        try
        {
            PrivateFiles.Write(Path.ChangeExtension(keyFile, ".crt"), System.Text.Encoding.ASCII.GetBytes(certificate.ExportCertificatePem() + "\n"));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Listed as "issued by an older version" until the next time the key is decrypted.
        }
    }

    /// <summary>
    /// Folder name of an address: its lookup key (<see cref="Mail.MailAddress.LookupKey"/>: ASCII
    /// lower case, the domain's A-label), as certificates are bound to it, so joerg@bücher.example
    /// and Joerg@xn--bcher-kva.example are one identity; escaped, so no address can reach outside
    /// identities/. For the ASCII addresses older versions could issue to, the folder they wrote.
    /// </summary>
    private static string Key(string address) => Uri.EscapeDataString(Mail.MailAddress.LookupKey(address));
}
