using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using System.Text.Json;
using Gateway.Audit;
using Gateway.Configuration;
using Microsoft.Extensions.Options;

namespace Gateway.Ca;

/// <summary>
/// A certificate authority inside Gateway (Gateway:Ca:Issuer "builtIn"): created on first use,
/// or an existing company CA or subordinate CA imported with <c>gateway ca import</c>. It issues
/// internal senders' S/MIME certificates, keeps every issued key (older mail stays decryptable
/// after a renewal), revokes, and publishes a CRL. Keys are stored as PKCS#12 encrypted with
/// AES-256 under the configured password, mode 0600.
/// </summary>
public sealed class BuiltInCertificateAuthority : ICertificateIssuer
{
    public const string IssuerName = "builtIn";
    private readonly CaOptions _options;
    private readonly string _password;
    private readonly TimeProvider _time;
    private readonly IAuditLog _audit;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lazy<IReadOnlyList<X509Certificate2>> _chain;
    private readonly IssuedIdentityStore _identities;
    private readonly RevocationListFile _crl;
    /// <summary>Signing a CRL takes milliseconds; another process holding the lock longer than this is stuck.</summary>
    private static readonly TimeSpan OtherProcessWait = TimeSpan.FromSeconds(60);

    public BuiltInCertificateAuthority(IOptions<GatewayOptions> options, TimeProvider time, IAuditLog audit)
    {
        _options = options.Value.Ca;
        _password = _options.EffectivePassword is { } password && !string.IsNullOrWhiteSpace(password)
            ? password
            : throw new InvalidOperationException("Gateway:Ca:Password or PasswordFile must give a non-empty password");
        _time = time;
        _audit = audit;
        _chain = new Lazy<IReadOnlyList<X509Certificate2>>(LoadOrCreate, LazyThreadSafetyMode.ExecutionAndPublication);
        _identities = new IssuedIdentityStore(Root, _password);
        _crl = new RevocationListFile(Root);
    }

    /// <summary>The CA certificate with its private key.</summary>
    public X509Certificate2 Certificate => _chain.Value[0];
    public IReadOnlyList<X509Certificate2> Chain => _chain.Value;
    public string Name => $"{IssuerName} ({Certificate.Subject})";
    private string Root => Path.GetFullPath(_options.Path);
    private string RevokedFile => Path.Combine(Root, "revoked.json");
    public string CrlFile => _crl.CrlPath;

    /// <summary>Whether the CA's key file is there (created, or imported); the CA is created on first use otherwise.</summary>
    public bool Exists => new CaFolder(Root, _password).Exists;

    public IReadOnlyList<IssuedIdentity> IssuedTo(string address) => _identities.For(address);

    public IReadOnlyList<X509Certificate2> CertificatesIssuedTo(string address) => _identities.CertificatesFor(address);

    /// <summary>Every certificate issued, without decrypting a key; see <see cref="IssuedIdentityStore.Certificates"/>.</summary>
    public IReadOnlyList<(string Address, X509Certificate2 Certificate)> IssuedCertificates(out List<string> withoutCertificateFile) =>
        _identities.Certificates(out withoutCertificateFile);

    public IReadOnlySet<string> RevokedSerials() => Revocations().Select(r => r.Serial).ToHashSet(StringComparer.OrdinalIgnoreCase);

    /// <summary>Generates a key, issues a certificate for it, checks it against the profile, stores both.</summary>
    public async Task<IssuedIdentity> IssueAsync(string address, string trigger, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            var now = _time.GetUtcNow();
            // Checked first, before a key is made: certificates end with their CA, so an expired CA can issue none.
            if (Certificate.NotAfter.ToUniversalTime() <= now.UtcDateTime)
                throw new InvalidOperationException($"{new CaFolder(Root, _password).KeyFile}: the CA certificate ({Certificate.Subject}) expired on {Certificate.NotAfter.ToUniversalTime():u} and cannot issue; import a new CA (gateway ca import)");
            using AsymmetricAlgorithm key = _options.KeyType == IssuedKeyType.EcdsaP256 ? ECDsa.Create(ECCurve.NamedCurves.nistP256) : RSA.Create(3072);
            var request = SmimeCertificateProfile.CreateRequest(address, key);
            var notAfter = Min(now.AddDays(_options.ValidityDays), Certificate.NotAfter);
            var issuance = new IssuanceRequest(address, now.AddMinutes(-5), notAfter, _options.CrlDistributionUrl, _options.IssuerCertificateUrl);
            SmimeCertificateProfile.AddIssuerExtensions(request, Certificate, issuance);
            using var issued = SmimeCertificateProfile.Sign(request, Certificate, issuance.NotBefore, issuance.NotAfter, SmimeCertificateProfile.NewSerialNumber());
            using var withKey = key is RSA rsa ? issued.CopyWithPrivateKey(rsa) : issued.CopyWithPrivateKey((ECDsa)key);
            var problems = CertificateLint.Check(withKey, address, Certificate);
            if (problems.Count > 0) throw new CryptographicException($"issued certificate violates the S/MIME profile: {string.Join("; ", problems)}");

            var identity = _identities.Add(address, withKey);
            await _audit.WriteAsync(new AuditEvent("certificate-issued")
            {
                Recipient = identity.Address, Action = trigger, Serial = identity.Serial, SignerCertificate = identity.Certificate.Thumbprint,
                NotAfter = new DateTimeOffset(identity.Certificate.NotAfter.ToUniversalTime()), Issuer = Name,
            }, CancellationToken.None);
            return identity;
        }
        finally
        {
            _gate.Release();
        }
    }

    public async Task<IReadOnlyList<RevocationRecord>> RevokeAsync(string addressOrSerial, X509RevocationReason reason, CancellationToken cancellationToken)
    {
        await _gate.WaitAsync(cancellationToken);
        try
        {
            using var held = await RevocationLockAsync(cancellationToken);
            var already = RevokedSerials();
            // Only the keys concerned are opened: decrypting every key of the CA to revoke one is slow and needless.
            var targets = (addressOrSerial.Contains('@') ? _identities.For(addressOrSerial) : _identities.WithSerial(addressOrSerial))
                .Where(i => !already.Contains(i.Serial))
                .ToList();
            var now = _time.GetUtcNow();
            var added = targets.Select(t => new RevocationRecord(t.Serial, t.Address, now, reason)).ToList();
            var records = Revocations().Concat(added).ToList();
            // Signed before anything is written: a CA that cannot sign a CRL (no cRLSign, a bad key)
            // fails here with revoked.json untouched. revoked.json is then written before ca.crl,
            // because every later publication is built from it: a ca.crl that failed to be written
            // is repaired by the next one, whereas a CRL listing a serial revoked.json lacks would
            // lose that serial again at the next publication.
            var (crl, number) = _crl.Build(Certificate, records, now);
            PrivateFiles.Write(RevokedFile, JsonSerializer.SerializeToUtf8Bytes(records));
            _crl.Write(crl, number);
            foreach (var (record, target) in added.Zip(targets))
            {
                await _audit.WriteAsync(new AuditEvent("certificate-revoked")
                {
                    Recipient = record.Address, Serial = record.Serial, SignerCertificate = target.Certificate.Thumbprint,
                    NotAfter = new DateTimeOffset(target.Certificate.NotAfter.ToUniversalTime()), Issuer = Name,
                    Reason = record.Reason.ToString(), Action = "revoked",
                }, CancellationToken.None);
            }
            return added;
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Signs ca.crl again (next update in 7 days, a new CRL number); on every revocation, at start and daily by the service, and by <c>gateway ca crl</c>.</summary>
    public async Task PublishCrlAsync(CancellationToken cancellationToken)
    {
        using var held = await RevocationLockAsync(cancellationToken);
        var (crl, number) = _crl.Build(Certificate, Revocations(), _time.GetUtcNow());
        _crl.Write(crl, number);
    }

    /// <summary>
    /// Revoking and publishing read revoked.json and the CRL number and write both: one at a time
    /// across processes (the service's daily publication, <c>gateway ca revoke</c>), or a
    /// revocation could be lost or a CRL number used twice.
    /// </summary>
    private async Task<Spool.EntryLock> RevocationLockAsync(CancellationToken cancellationToken) =>
        await Spool.EntryLock.AcquireAsync(Path.Combine(Root, "locks"), "revocations", OtherProcessWait, cancellationToken)
            ?? throw new IOException($"another process has held the revocation lock in {Root} for over {OtherProcessWait.TotalSeconds:0} s");

    private List<RevocationRecord> Revocations() =>
        File.Exists(RevokedFile) ? JsonSerializer.Deserialize<List<RevocationRecord>>(File.ReadAllBytes(RevokedFile)) ?? [] : [];

    private IReadOnlyList<X509Certificate2> LoadOrCreate()
    {
        var folder = new CaFolder(Root, _password);
        // Whoever loses the race to create ca.p12 uses the winner's: the one on disk is the CA.
        if (!folder.Exists) folder.TryCreate(CreateRoot(), []);
        return folder.Load();
    }

    private X509Certificate2 CreateRoot()
    {
        using var key = RSA.Create(3072);
        var subject = new X500DistinguishedNameBuilder();
        subject.AddCommonName(_options.CommonName);
        var request = new CertificateRequest(subject.Build(), key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, true, 0, critical: true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, critical: true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, critical: false));
        var now = _time.GetUtcNow();
        return request.CreateSelfSigned(now.AddMinutes(-5), now.AddYears(10));
    }

    /// <summary>A certificate never outlives its CA: a subordinate CA imported with two years left issues for two years at most.</summary>
    private static DateTimeOffset Min(DateTimeOffset wanted, DateTime caNotAfter) =>
        wanted.UtcDateTime < caNotAfter.ToUniversalTime() ? wanted : new DateTimeOffset(caNotAfter.ToUniversalTime());
}
