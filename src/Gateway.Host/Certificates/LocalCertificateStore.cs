using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Certificates;

/// <summary>
/// The local certificate folder, read once at start: PKCS#12 files are signing identities of
/// internal senders, other certificate files are recipients' certificates (or intermediates).
/// Every certificate is indexed under each address of its subjectAltName; whether it may be used
/// is decided per lookup by <see cref="CertificateSelector"/>, so expiry is noticed as time passes.
/// </summary>
public sealed partial class LocalCertificateStore : ICertificateSource
{
    private static readonly string[] IdentityExtensions = [".p12", ".pfx"];
    private static readonly string[] CertificateExtensions = [".crt", ".pem", ".cer", ".der"];

    private readonly Dictionary<string, List<CertificateCandidate>> _signers = new(StringComparer.OrdinalIgnoreCase);
    private readonly Dictionary<string, List<CertificateCandidate>> _recipients = new(StringComparer.OrdinalIgnoreCase);
    private readonly ILogger<LocalCertificateStore> _logger;
    private readonly List<string> _unreadable = [];

    public LocalCertificateStore(IOptions<GatewayOptions> options, TimeProvider time, ILogger<LocalCertificateStore> logger)
    {
        _logger = logger;
        var settings = options.Value.Certificates;
        var anchors = new X509Certificate2Collection();
        foreach (var anchor in settings.EffectiveTrustAnchors)
        {
            var files = Directory.Exists(anchor) ? Directory.EnumerateFiles(anchor).Where(HasExtension(CertificateExtensions)) : [anchor];
            foreach (var file in files) anchors.AddRange(LoadCertificates(file));
        }
        var intermediates = new X509Certificate2Collection();
        Trust = new TrustContext(anchors, intermediates, time);

        var password = Pkcs12Password(settings);
        foreach (var file in Directory.EnumerateFiles(settings.Path).Order(StringComparer.Ordinal))
        {
            var source = "local:" + Path.GetFileName(file);
            try
            {
                if (HasExtension(IdentityExtensions)(file)) LoadIdentity(file, password, source, intermediates);
                else if (HasExtension(CertificateExtensions)(file))
                {
                    foreach (var certificate in LoadCertificates(file))
                    {
                        if (IsCertificateAuthority(certificate)) intermediates.Add(certificate);
                        else Index(_recipients, certificate, source);
                    }
                }
            }
            catch (CryptographicException e)
            {
                _unreadable.Add($"{file}: {e.Message}");
                // The message names the file, never the password.
                LogUnreadable(Path.GetFileName(file), e.Message);
            }
        }
        // A certificate whose key the gateway holds belongs to an internal user, who reads mail
        // without that key (the point of a gateway): encrypting to it would make the mail unreadable.
        var identities = _signers.Values.SelectMany(l => l).Select(c => c.Certificate.Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);
        foreach (var list in _recipients.Values) list.RemoveAll(c => identities.Contains(c.Certificate.Thumbprint));
        foreach (var empty in _recipients.Where(r => r.Value.Count == 0).Select(r => r.Key).ToList()) _recipients.Remove(empty);
        LogLoaded(settings.Path, _signers.Count, _recipients.Count, anchors.Count);
    }

    public TrustContext Trust { get; }

    /// <summary>
    /// Files that could not be read (a wrong password, a broken file), each with the reason and
    /// never the password. `gateway run` refuses to start while there are any: a sender whose
    /// identity silently failed to load would otherwise have every mail refused or held.
    /// </summary>
    public IReadOnlyList<string> Unreadable => _unreadable;

    public string Name => "local";

    public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken) =>
        ValueTask.FromResult(CertificateLookup.Found(Candidates(usage == CertificateUsage.Signing ? _signers : _recipients, address)));

    /// <summary>
    /// Every certificate with its key held for the address, whatever its validity: inbound mail
    /// encrypted to an expired or replaced one still needs that key to be read.
    /// </summary>
    public IReadOnlyList<X509Certificate2> IdentitiesFor(string address) =>
        Candidates(_signers, address).Select(c => c.Certificate).ToList();

    private static List<CertificateCandidate> Candidates(Dictionary<string, List<CertificateCandidate>> index, string address) =>
        index.TryGetValue(address, out var list) ? list : [];

    private void LoadIdentity(string file, string? password, string source, X509Certificate2Collection intermediates)
    {
        var collection = X509CertificateLoader.LoadPkcs12CollectionFromFile(file, password, X509KeyStorageFlags.EphemeralKeySet);
        foreach (var certificate in collection)
        {
            if (certificate.HasPrivateKey) Index(_signers, certificate, source);
            else if (IsCertificateAuthority(certificate)) intermediates.Add(certificate);
        }
    }

    private static void Index(Dictionary<string, List<CertificateCandidate>> index, X509Certificate2 certificate, string source)
    {
        foreach (var address in SmimeCertificateValidator.EmailAddresses(certificate))
        {
            if (!index.TryGetValue(address, out var list)) index[address] = list = [];
            list.Add(new CertificateCandidate(certificate, source));
        }
    }

    private static X509Certificate2Collection LoadCertificates(string file)
    {
        var collection = new X509Certificate2Collection();
        var bytes = File.ReadAllBytes(file);
        if (bytes.AsSpan().IndexOf("-----BEGIN"u8) >= 0) collection.ImportFromPem(System.Text.Encoding.ASCII.GetString(bytes));
        else collection.Add(X509CertificateLoader.LoadCertificate(bytes));
        return collection;
    }

    private static bool IsCertificateAuthority(X509Certificate2 certificate) =>
        certificate.Extensions.OfType<X509BasicConstraintsExtension>().Any(b => b.CertificateAuthority);

    private static Func<string, bool> HasExtension(string[] extensions) =>
        file => extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase);

    private static string? Pkcs12Password(CertificatesOptions settings)
    {
        if (!string.IsNullOrEmpty(settings.Pkcs12PasswordFile))
            return SecretFile.FirstLine(settings.Pkcs12PasswordFile);
        return settings.Pkcs12Password;
    }

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Certificate store {Path}: {Signers} sender addresses with signing identities, {Recipients} recipient addresses, {Anchors} trust anchors")]
    private partial void LogLoaded(string path, int signers, int recipients, int anchors);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "Certificate file {File} could not be read: {Reason}")]
    private partial void LogUnreadable(string file, string reason);
}
