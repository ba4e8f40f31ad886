using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Certificates;

namespace Gateway.Ca;

/// <summary>
/// Makes an existing company CA or subordinate CA the built-in CA's issuing certificate: the
/// certificate with its key (and the chain above it, so signed mail carries the path to the
/// company root) is checked and written to Ca:Path as ca.p12, encrypted with Ca:Password exactly
/// like a CA Gateway creates. An existing ca.p12 is never overwritten: the identities issued
/// under it would lose their issuer.
/// </summary>
public sealed class CompanyCaImport(CaOptions options, TimeProvider time)
{
    public sealed record Result(X509Certificate2? Certificate, IReadOnlyList<X509Certificate2> Above, IReadOnlyList<string> Problems)
    {
        public bool Imported => Problems.Count == 0;
    }

    /// <summary>A PKCS#12 file: the certificate with a private key is the CA, the others its chain.</summary>
    public Result FromPkcs12(string file, string password)
    {
        if (!File.Exists(file)) return Refused($"{file}: file does not exist");
        X509Certificate2Collection all;
        try
        {
            all = X509CertificateLoader.LoadPkcs12CollectionFromFile(file, password, X509KeyStorageFlags.EphemeralKeySet | X509KeyStorageFlags.Exportable);
        }
        catch (CryptographicException e)
        {
            return Refused($"{file}: not a PKCS#12 file this password opens ({e.Message.TrimEnd('.')})");
        }
        var withKey = all.Where(c => c.HasPrivateKey).ToList();
        if (withKey.Count != 1) return Refused($"{file}: holds {withKey.Count} private keys; it must hold exactly one, the CA's");
        return Import(file, withKey[0], all.Where(c => !c.HasPrivateKey).ToList());
    }

    /// <summary>PEM files: the first certificate of <paramref name="certificateFile"/> is the CA, further ones its chain; the key may be encrypted.</summary>
    public Result FromPem(string certificateFile, string keyFile, string? password)
    {
        if (new[] { certificateFile, keyFile }.FirstOrDefault(f => !File.Exists(f)) is { } missing) return Refused($"{missing}: file does not exist");
        X509Certificate2 ca;
        var others = new X509Certificate2Collection();
        try
        {
            ca = string.IsNullOrEmpty(password)
                ? X509Certificate2.CreateFromPemFile(certificateFile, keyFile)
                : X509Certificate2.CreateFromEncryptedPemFile(certificateFile, password, keyFile);
            others.ImportFromPemFile(certificateFile);
        }
        catch (Exception e) when (e is CryptographicException or ArgumentException)
        {
            return Refused($"{certificateFile} with {keyFile}: not a PEM certificate and a matching private key ({e.Message.TrimEnd('.')})");
        }
        return Import(certificateFile, ca, others.Where(c => c.Thumbprint != ca.Thumbprint).ToList());
    }

    private Result Import(string source, X509Certificate2 ca, IReadOnlyList<X509Certificate2> others)
    {
        var problems = Problems(ca).Select(p => $"{source}: {p}").ToList();
        var folder = new CaFolder(Path.GetFullPath(options.Path), options.EffectivePassword!);
        if (folder.Exists) problems.Add($"{folder.KeyFile} exists already: move it (and identities/, revoked.json, ca.crl) away first; the certificates issued under it need it");
        var above = CaFolder.Ordered(ca, others).Skip(1).ToList();
        if (problems.Count > 0) return new Result(ca, above, problems);
        // Checked above for the message; TryCreate is what holds when the service creates a CA meanwhile.
        if (!folder.TryCreate(ca, above)) return new Result(ca, above, [$"{folder.KeyFile} was created meanwhile (by the running gateway's first enrolment?): move it away first"]);
        return new Result(ca, above, []);
    }

    private List<string> Problems(X509Certificate2 ca)
    {
        var problems = new List<string>();
        var now = time.GetUtcNow().UtcDateTime;
        if (ca.Extensions.OfType<X509BasicConstraintsExtension>().FirstOrDefault() is not { CertificateAuthority: true })
            problems.Add("not a CA certificate (basicConstraints cA is not true)");
        // Both, checked now: a CA without cRLSign issues fine and then fails at its first revocation.
        if (ca.Extensions.OfType<X509KeyUsageExtension>().FirstOrDefault() is not { } usage)
            problems.Add("it has no key usage extension; a CA's must allow keyCertSign and cRLSign");
        else
        {
            if (!usage.KeyUsages.HasFlag(X509KeyUsageFlags.KeyCertSign)) problems.Add("its key usage does not allow signing certificates (keyCertSign)");
            if (!usage.KeyUsages.HasFlag(X509KeyUsageFlags.CrlSign)) problems.Add("its key usage does not allow signing CRLs (cRLSign), which every revocation needs");
        }
        // The CA's own EKU, when it has one, limits what it may issue (RFC 5280 path validation as most clients apply it).
        if (ca.Extensions.OfType<X509EnhancedKeyUsageExtension>().FirstOrDefault() is { } eku
            && !eku.EnhancedKeyUsages.Cast<Oid>().Any(o => o.Value is SmimeCertificateProfile.EmailProtection or SmimeCertificateValidator.AnyExtendedKeyUsageOid))
            problems.Add($"its extended key usage does not allow emailProtection ({string.Join(", ", eku.EnhancedKeyUsages.Cast<Oid>().Select(o => o.FriendlyName ?? o.Value))})");
        if (ca.Extensions.OfType<X509SubjectKeyIdentifierExtension>().FirstOrDefault() is null)
            problems.Add("it has no subject key identifier, which issued certificates name as their authority key identifier");
        if (now < ca.NotBefore.ToUniversalTime() || now > ca.NotAfter.ToUniversalTime())
            problems.Add($"not valid now (valid {ca.NotBefore.ToUniversalTime():u} to {ca.NotAfter.ToUniversalTime():u})");
        using var rsa = ca.GetRSAPrivateKey();
        using var ec = rsa is null ? ca.GetECDsaPrivateKey() : null;
        if (rsa is null && ec is null) problems.Add("its private key is neither RSA nor ECDSA");
        else if (rsa is { KeySize: < 2048 }) problems.Add($"its RSA key has {rsa.KeySize} bits; at least 2048 are required");
        else if (ec is not null && CurveName(ec) is var curve && !AllowedCurves.Contains(curve))
            problems.Add($"its EC key is on curve {curve}; the S/MIME BR allow P-256, P-384 and P-521 only");
        return problems;
    }

    private static Result Refused(string problem) => new(null, [], [problem]);

    private static readonly string[] AllowedCurves = ["nistP256", "nistP384", "nistP521"];

    /// <summary>The curve's .NET name (nistP256 …), or its OID or "explicit parameters" when it has none.</summary>
    private static string CurveName(ECDsa ec)
    {
        var curve = ec.ExportParameters(false).Curve;
        if (!curve.IsNamed) return "with explicit parameters";
        var oid = curve.Oid;
        return oid.Value switch
        {
            "1.2.840.10045.3.1.7" => "nistP256",
            "1.3.132.0.34" => "nistP384",
            "1.3.132.0.35" => "nistP521",
            _ => oid.FriendlyName ?? oid.Value ?? "unknown",
        };
    }
}
