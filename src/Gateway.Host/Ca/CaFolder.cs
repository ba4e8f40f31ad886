using System.Security.Cryptography.X509Certificates;
using System.Text;

namespace Gateway.Ca;

/// <summary>
/// The CA's own files in Ca:Path: ca.p12 (the CA certificate with its key and the certificates
/// above it, encrypted like every issued key), ca.crt (the CA certificate, PEM, to give to
/// partners) and ca-chain.pem (the CA certificate and the chain above it).
/// </summary>
internal sealed class CaFolder(string root, string password)
{
    public string KeyFile => Path.Combine(root, "ca.p12");
    public string CertificateFile => Path.Combine(root, "ca.crt");
    public string ChainFile => Path.Combine(root, "ca-chain.pem");
    public bool Exists => File.Exists(KeyFile);

    /// <summary>
    /// Writes ca.p12 unless there is one: false, and nothing written, when another process (the
    /// service meeting a first sender, <c>gateway ca issue</c> or <c>import</c>) made it first,
    /// so two processes can never each create a CA and issue under the one that is later replaced.
    /// </summary>
    public bool TryCreate(X509Certificate2 caWithKey, IReadOnlyList<X509Certificate2> above)
    {
        var all = new X509Certificate2Collection(caWithKey);
        all.AddRange(above.ToArray());
        if (!PrivateFiles.WriteNew(KeyFile, all.ExportPkcs12(IssuedIdentityStore.KeyProtection, password))) return false;
        File.WriteAllText(CertificateFile, caWithKey.ExportCertificatePem());
        File.WriteAllText(ChainFile, string.Concat(all.Select(c => c.ExportCertificatePem() + "\n")), Encoding.ASCII);
        return true;
    }

    /// <summary>The CA certificate (the one with a key) first, then its issuer, its issuer's issuer … as far as the file holds them.</summary>
    public IReadOnlyList<X509Certificate2> Load()
    {
        var all = X509CertificateLoader.LoadPkcs12CollectionFromFile(KeyFile, password, X509KeyStorageFlags.EphemeralKeySet);
        var ca = all.FirstOrDefault(c => c.HasPrivateKey)
            ?? throw new InvalidDataException($"{KeyFile} holds no private key: the CA cannot issue without its key");
        return Ordered(ca, all.Where(c => c != ca));
    }

    public static IReadOnlyList<X509Certificate2> Ordered(X509Certificate2 start, IEnumerable<X509Certificate2> others)
    {
        var chain = new List<X509Certificate2> { start };
        var pool = others.ToList();
        while (!IsSelfIssued(chain[^1]) && pool.FirstOrDefault(c => c.SubjectName.RawData.AsSpan().SequenceEqual(chain[^1].IssuerName.RawData)) is { } issuer)
        {
            chain.Add(issuer);
            pool.Remove(issuer);
        }
        return chain;
    }

    public static bool IsSelfIssued(X509Certificate2 certificate) =>
        certificate.SubjectName.RawData.AsSpan().SequenceEqual(certificate.IssuerName.RawData);
}
