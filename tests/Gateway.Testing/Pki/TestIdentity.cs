using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Gateway.Testing.Pki;

/// <summary>An issued S/MIME end entity: certificate, private key and the CA chain above it.</summary>
public sealed class TestIdentity : IDisposable
{
    internal TestIdentity(string address, X509Certificate2 certificate, string privateKeyPem,
        IReadOnlyList<X509Certificate2> issuerChain)
    {
        Address = address;
        Certificate = certificate;
        PrivateKeyPem = privateKeyPem;
        IssuerChain = issuerChain;
    }

    public string Address { get; }

    /// <summary>Certificate with an exportable private key, usable by SignedCms/EnvelopedCms.</summary>
    public X509Certificate2 Certificate { get; }

    /// <summary>The certificate without its key, as a partner would hold it.</summary>
    public X509Certificate2 PublicCertificate => X509CertificateLoader.LoadCertificate(Certificate.RawData);

    /// <summary>Issuing CA first, root last.</summary>
    public IReadOnlyList<X509Certificate2> IssuerChain { get; }

    /// <summary>Intermediate CAs only (the chain without its root), as a signer would attach them.</summary>
    public IReadOnlyList<X509Certificate2> Intermediates => IssuerChain.Take(IssuerChain.Count - 1).ToList();

    public string CertificatePem => Certificate.ExportCertificatePem();

    /// <summary>Unencrypted PKCS#8 PEM ("BEGIN PRIVATE KEY"), as openssl -inkey reads it.</summary>
    public string PrivateKeyPem { get; }

    /// <summary>
    /// PKCS#12 with key, certificate and the whole CA chain. 3DES/SHA-1 because gpgsm 2.2
    /// rejects the PBES2/AES format that is the modern default.
    /// </summary>
    public byte[] ExportPkcs12(string password)
    {
        var collection = new X509Certificate2Collection(Certificate);
        collection.AddRange(IssuerChain.ToArray());
        return collection.ExportPkcs12(Pkcs12ExportPbeParameters.Pkcs12TripleDesSha1, password);
    }

    /// <summary>Writes &lt;address&gt;.p12, .crt, .key (the keys mode 0600; and .chain.crt when there are intermediates).</summary>
    public TestIdentityFiles WriteTo(string directory, string pkcs12Password = "test")
    {
        Directory.CreateDirectory(directory);
        var stem = Path.Combine(directory, Address);
        var files = new TestIdentityFiles(stem + ".p12", stem + ".crt", stem + ".key",
            Intermediates.Count > 0 ? stem + ".chain.crt" : null);
        File.WriteAllBytes(files.Pkcs12Path, ExportPkcs12(pkcs12Password));
        File.WriteAllText(files.CertificatePath, CertificatePem);
        File.WriteAllText(files.KeyPath, PrivateKeyPem);
        // Private keys readable by the owner only, as Gateway requires of real ones.
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(files.Pkcs12Path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            File.SetUnixFileMode(files.KeyPath, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        if (files.ChainPath is not null)
        {
            File.WriteAllText(files.ChainPath, string.Concat(Intermediates.Select(c => c.ExportCertificatePem())));
        }

        return files;
    }

    public void Dispose() => Certificate.Dispose();

    /// <summary>
    /// Round-trips through PKCS#12 so the key becomes a normal exportable OpenSSL-backed key;
    /// a CopyWithPrivateKey result trips up some CMS code paths on Linux.
    /// </summary>
    internal static X509Certificate2 AttachKey(X509Certificate2 certificate, AsymmetricAlgorithm key)
    {
        using var withKey = key switch
        {
            RSA rsa => certificate.CopyWithPrivateKey(rsa),
            ECDsa ec => certificate.CopyWithPrivateKey(ec),
            _ => throw new ArgumentException($"no test certificates with {key.GetType().Name} keys"),
        };
        var pfx = withKey.Export(X509ContentType.Pkcs12, (string?)null);
        return X509CertificateLoader.LoadPkcs12(pfx, null, X509KeyStorageFlags.Exportable);
    }
}
