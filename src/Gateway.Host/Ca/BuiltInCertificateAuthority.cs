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
    }

    /// <summary>The CA certificate with its private key.</summary>
    public X509Certificate2 Certificate => _chain.Value[0];
    public IReadOnlyList<X509Certificate2> Chain => _chain.Value;
    public string Name => $"{IssuerName} ({Certificate.Subject})";
    private string Root => Path.GetFullPath(_options.Path);
    private string RevokedFile => Path.Combine(Root, "revoked.json");
    public string CrlFile => Path.Combine(Root, "ca.crl");

    public IReadOnlyList<IssuedIdentity> IssuedTo(string address) => _identities.For(address);

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
            var notAfter = Min(now.AddDays(_options.ValidityDays), Certificate.NotAfter);
            var issuance = new IssuanceRequest(address, now.AddMinutes(-5), notAfter, _options.CrlDistributionUrl, _options.IssuerCertificateUrl);
            SmimeCertificateProfile.AddIssuerExtensions(request, Certificate, issuance);
            using var issued = SmimeCertificateProfile.Sign(request, Certificate, issuance.NotBefore, issuance.NotAfter, SmimeCertificateProfile.NewSerialNumber());
            using var withKey = key is RSA rsa ? issued.CopyWithPrivateKey(rsa) : issued.CopyWithPrivateKey((ECDsa)key);
            var problems = CertificateLint.Check(withKey, address);
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
            var already = RevokedSerials();
            var targets = _identities.All()
                .Where(i => string.Equals(i.Address, addressOrSerial, StringComparison.OrdinalIgnoreCase) || string.Equals(i.Serial, addressOrSerial, StringComparison.OrdinalIgnoreCase))
                .Where(i => !already.Contains(i.Serial))
                .ToList();
            var now = _time.GetUtcNow();
            var added = targets.Select(t => new RevocationRecord(t.Serial, t.Address, now, reason)).ToList();
            var records = Revocations().Concat(added).ToList();
            PrivateFiles.Write(RevokedFile, JsonSerializer.SerializeToUtf8Bytes(records));
            PublishCrl(records, now);
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

    /// <summary>Writes ca.crl (DER), next update in 7 days; called on every revocation and at start.</summary>
    public void PublishCrl() => PublishCrl(Revocations(), _time.GetUtcNow());

    private void PublishCrl(IReadOnlyList<RevocationRecord> records, DateTimeOffset now)
    {
        var builder = new CertificateRevocationListBuilder();
        foreach (var record in records) builder.AddEntry(Convert.FromHexString(record.Serial), record.RevokedAt, record.Reason);
        // An imported company CA may have an EC key: the RSA padding applies to RSA keys only.
        using var rsa = Certificate.GetRSAPublicKey();
        var padding = rsa is null ? null : RSASignaturePadding.Pkcs1;
        var crl = builder.Build(Certificate, records.Count + 1, now.AddDays(7), HashAlgorithmName.SHA256, padding, now);
        PrivateFiles.Write(CrlFile, crl);
        if (!OperatingSystem.IsWindows()) File.SetUnixFileMode(CrlFile, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);
    }

    private List<RevocationRecord> Revocations() =>
        File.Exists(RevokedFile) ? JsonSerializer.Deserialize<List<RevocationRecord>>(File.ReadAllBytes(RevokedFile)) ?? [] : [];

    private IReadOnlyList<X509Certificate2> LoadOrCreate()
    {
        var folder = new CaFolder(Root, _password);
        if (!folder.Exists) folder.Write(CreateRoot(), []);
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
