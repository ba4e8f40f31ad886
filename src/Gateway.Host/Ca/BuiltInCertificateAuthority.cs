using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Audit;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Ca;

/// <summary>
/// A certificate authority inside Gateway: created on first use (or imported by putting an
/// existing CA's ca.p12 in its folder), it issues internal senders' S/MIME certificates, keeps
/// every issued key (older mail stays decryptable after a renewal), revokes, and publishes a CRL.
/// Keys are stored as PKCS#12 encrypted with AES-256 under the configured password, mode 0600.
/// </summary>
public sealed class BuiltInCertificateAuthority
{
    private static readonly PbeParameters KeyProtection = new(PbeEncryptionAlgorithm.Aes256Cbc, HashAlgorithmName.SHA256, 200_000);
    private readonly CaOptions _options;
    private readonly string _password;
    private readonly TimeProvider _time;
    private readonly IAuditLog _audit;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lazy<X509Certificate2> _certificate;
    private Dictionary<string, List<IssuedIdentity>>? _issued;

    public BuiltInCertificateAuthority(IOptions<GatewayOptions> options, TimeProvider time, IAuditLog audit)
    {
        _options = options.Value.Ca;
        _password = _options.EffectivePassword ?? throw new InvalidOperationException("Gateway:Ca:Password or PasswordFile is required");
        _time = time;
        _audit = audit;
        _certificate = new Lazy<X509Certificate2>(LoadOrCreate, LazyThreadSafetyMode.ExecutionAndPublication);
    }

    public X509Certificate2 Certificate => _certificate.Value;
    private string Root => Path.GetFullPath(_options.Path);
    private string CaFile => Path.Combine(Root, "ca.p12");
    private string RevokedFile => Path.Combine(Root, "revoked.json");
    public string CrlFile => Path.Combine(Root, "ca.crl");

    /// <summary>
    /// The identities issued to an address, including those another process (the CLI) issued
    /// since: the folder is the truth, the dictionary only saves decrypting a file twice.
    /// </summary>
    public IReadOnlyList<IssuedIdentity> IssuedTo(string address)
    {
        var issued = Issued();
        var folder = Path.Combine(Root, "identities", Key(address));
        lock (issued)
        {
            if (!issued.TryGetValue(Key(address), out var list)) issued[Key(address)] = list = [];
            if (Directory.Exists(folder))
            {
                foreach (var file in Directory.EnumerateFiles(folder, "*.p12").Where(f => list.All(i => i.File != f)))
                    list.Add(new IssuedIdentity(address, X509CertificateLoader.LoadPkcs12FromFile(file, _password, X509KeyStorageFlags.EphemeralKeySet), file));
            }
            return list.ToList();
        }
    }

    public IReadOnlySet<string> RevokedSerials() => Revocations().Select(r => r.Serial).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Generates a key, issues a certificate for it, checks it against the profile, stores both.</summary>
    public async Task<IssuedIdentity> IssueAsync(string address, string trigger, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            using AsymmetricAlgorithm key = _options.KeyType == IssuedKeyType.EcdsaP256 ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(3072);
            var request = SmimeCertificateProfile.CreateRequest(address, key);
            var issuance = new IssuanceRequest(address, now.AddMinutes(-5), now.AddDays(_options.ValidityDays), _options.CrlDistributionUrl, _options.IssuerCertificateUrl);
            SmimeCertificateProfile.AddIssuerExtensions(request, Certificate, issuance);
            using var issued = SmimeCertificateProfile.Sign(request, Certificate, issuance.NotBefore, issuance.NotAfter, SmimeCertificateProfile.NewSerialNumber());
            using var withKey = key is RSA rsa ? issued.CopyWithPrivateKey(rsa) : issued.CopyWithPrivateKey((ECDsa)key);
            var problems = CertificateLint.Check(withKey, address);
            if (problems.Count > 0) throw new CryptographicException($"issued certificate violates the S/MIME profile: {string.Join("; ", problems)}");

            var file = Path.Combine(Root, "identities", Key(address), withKey.SerialNumber + ".p12");
            PrivateFiles.Write(file, withKey.ExportPkcs12(KeyProtection, _password));
            var identity = new IssuedIdentity(address, X509CertificateLoader.LoadPkcs12FromFile(file, _password, X509KeyStorageFlags.EphemeralKeySet), file);
            var all = Issued();
            lock (all)
            {
                if (!all.TryGetValue(Key(address), out var list)) all[Key(address)] = list = [];
                list.Add(identity);
            }
            await _audit.WriteAsync(new AuditEvent("certificate-issued")
            {
                Recipient = address, Action = trigger, Status = identity.Serial, SignerCertificate = identity.Certificate.Thumbprint,
                Reason = $"valid until {identity.Certificate.NotAfter.ToUniversalTime():u}; issuer {Certificate.Subject}",
            }, CancellationToken.None);
            return identity;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Revokes every certificate of an address, or one serial, and publishes a new CRL.</summary>
    public async Task<IReadOnlyList<RevocationRecord>> RevokeAsync(string addressOrSerial, X509RevocationReason reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var already = RevokedSerials();
            var targets = Issued().Values.SelectMany(l => l)
                .Where(i => string.Equals(i.Address, addressOrSerial, StringComparison.OrdinalIgnoreCase) || string.Equals(i.Serial, addressOrSerial, StringComparison.OrdinalIgnoreCase))
                .Where(i => !already.Contains(i.Serial))
                .ToList();
            var now = _time.GetUtcNow();
            var added = targets.Select(t => new RevocationRecord(t.Serial, t.Address, now, reason)).ToList();
            var records = Revocations().Concat(added).ToList();
            PrivateFiles.Write(RevokedFile, JsonSerializer.SerializeToUtf8Bytes(records));
            PublishCrl(records, now);
            foreach (var record in added)
            {
                await _audit.WriteAsync(new AuditEvent("certificate-revoked")
                {
                    Recipient = record.Address, Status = record.Serial, Reason = record.Reason.ToString(), Action = "revoked",
                }, CancellationToken.None);
            }
            return added;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Writes ca.crl (DER), next update in 7 days; called on every revocation and at start.</summary>
    public void PublishCrl() => PublishCrl(Revocations(), _time.GetUtcNow());

    private void PublishCrl(IReadOnlyList<RevocationRecord> records, DateTimeOffset now)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var record in records) builder.AddEntry(Convert.FromHexString(record.Serial), record.RevokedAt, record.Reason);
        var crl = builder.Build(Certificate, records.Count + 1, now.AddDays(7), HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1, now);
        PrivateFiles.Write(CrlFile, crl);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(CrlFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private List<RevocationRecord> Revocations() =>
        File.Exists(RevokedFile) ? JsonSerializer.Deserialize<List<RevocationRecord>>(File.ReadAllBytes(RevokedFile)) ?? [] : [];

    private X509Certificate2 LoadOrCreate()
    {
        if (File.Exists(CaFile)) return X509CertificateLoader.LoadPkcs12FromFile(CaFile, _password, X509KeyStorageFlags.EphemeralKeySet);
        using var key = RSA.Create(3072);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(_options.CommonName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = _time.GetUtcNow();
        using var created = request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
        PrivateFiles.Write(CaFile, created.ExportPkcs12(KeyProtection, _password));
        File.WriteAllText(Path.Combine(Root, "ca.crt"), created.ExportCertificatePem());
        return X509CertificateLoader.LoadPkcs12FromFile(CaFile, _password, X509KeyStorageFlags.EphemeralKeySet);
    }

    private Dictionary<string, List<IssuedIdentity>> Issued()
    {
        if (_issued is not null) return _issued;
        var issued = new Dictionary<string, List<IssuedIdentity>>(StringComparer.Ordinal);
        var folder = Path.Combine(Root, "identities");
        if (Directory.Exists(folder))
        {
            foreach (var file in Directory.EnumerateFiles(folder, "*.p12", SearchOption.AllDirectories))
            {
                var certificate = X509CertificateLoader.LoadPkcs12FromFile(file, _password, X509KeyStorageFlags.EphemeralKeySet);
                var address = Uri.UnescapeDataString(Path.GetFileName(Path.GetDirectoryName(file)!));
                if (!issued.TryGetValue(address, out var list)) issued[address] = list = [];
                list.Add(new IssuedIdentity(address, certificate, file));
            }
        }
        return Interlocked.CompareExchange(ref _issued, issued, null) ?? issued;
    }

    /// <summary>Folder name of an address: lower-case, escaped, so no address can reach outside identities/.</summary>
    private static string Key(string address) => Uri.EscapeDataString(address.ToLowerInvariant());
}
