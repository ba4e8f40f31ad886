using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Gateway.Configuration;
using Gateway.Mail;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Certificates;

/// <summary>
/// The local certificate folder: PKCS#12 files are signing identities of internal senders, other
/// certificate files are recipients' certificates (or intermediates). Every certificate is indexed
/// under each address of its subjectAltName; whether it may be used is decided per lookup by
/// <see cref="CertificateSelector"/>, so expiry is noticed as time passes. Read at start and again
/// by <see cref="Reload"/> when the folder or a trust anchor file changes
/// (<see cref="CertificateFolderWatcherService"/>): a folder with a file that cannot be read (an
/// anchor included) is not taken, and the last good one stays.
/// </summary>
public sealed partial class LocalCertificateStore : ICertificateSource
{
    private static readonly string[] IdentityExtensions = [".p12", ".pfx"];
    private static readonly string[] CertificateExtensions = [".crt", ".pem", ".cer", ".der"];

    private readonly CertificatesOptions _settings;
    private readonly string _path;
    private readonly bool _allowInsecureKeys;
    private readonly ILogger<LocalCertificateStore> _logger;
    private volatile Contents _current;

    public LocalCertificateStore(IOptions<GatewayOptions> options, TimeProvider time, ILogger<LocalCertificateStore> logger)
    {
        _logger = logger;
        var settings = options.Value.Certificates;
        _settings = settings;
        _path = settings.Path;
        _allowInsecureKeys = settings.AllowInsecureKeyPermissions;
        _current = Read();
        foreach (var problem in _current.Unreadable) LogUnreadable(problem);
        // The anchors and the folder's intermediates as they are now, for every chain built (LDAP's, harvested ones' too).
        Trust = new TrustContext(() => _current.Anchors, () => _current.Intermediates, time);
        LogLoaded(settings.Path, _current.Signers.Count, _current.Recipients.Count, _current.Anchors.Count);
    }

    public TrustContext Trust { get; }

    /// <summary>
    /// Files that could not be read (a wrong password, a broken file), each with the reason and
    /// never the password. `gateway run` refuses to start while there are any: a sender whose
    /// identity silently failed to load would otherwise have every mail refused or held.
    /// </summary>
    public IReadOnlyList<string> Unreadable => _current.Unreadable;

    /// <summary>A hash of what the folder's certificate and key files (and the PKCS#12 password file) hold now, and their modes, to compare with <see cref="FolderReload.Fingerprint"/>.</summary>
    public string Fingerprint() => FolderFingerprint();

    /// <summary>The fingerprint of the folder as the certificates in use were read from it.</summary>
    public string LoadedFingerprint => _current.Fingerprint;

    public string FolderPath => _path;

    public string Name => "local";

    public ValueTask<CertificateLookup> FindAsync(string address, CertificateUsage usage, CancellationToken cancellationToken)
    {
        var current = _current;
        return ValueTask.FromResult(CertificateLookup.Found(Candidates(usage == CertificateUsage.Signing ? current.Signers : current.Recipients, address)));
    }

    /// <summary>
    /// Every certificate with its key held for the address, whatever its validity: inbound mail
    /// encrypted to an expired or replaced one still needs that key to be read.
    /// </summary>
    public IReadOnlyList<X509Certificate2> IdentitiesFor(string address) =>
        Candidates(_current.Signers, address).Select(c => c.Certificate).ToList();

    /// <summary>Every certificate of the folder as the gateway uses it, for `gateway certs list`: address, signing or encryption, candidate.</summary>
    public IEnumerable<(string Address, CertificateUsage Usage, CertificateCandidate Candidate)> All()
    {
        var current = _current;
        return current.Signers.SelectMany(s => s.Value.Select(c => (s.Key, CertificateUsage.Signing, c)))
            .Concat(current.Recipients.SelectMany(r => r.Value.Select(c => (r.Key, CertificateUsage.Encryption, c))));
    }

    /// <summary>Reads the folder again and takes it, unless a file in it cannot be read: then the certificates read before stay.</summary>
    /// <param name="fingerprint">The folder's <see cref="Fingerprint"/>, when the caller took it just now (it is not hashed twice).</param>
    public FolderReload Reload(string? fingerprint = null)
    {
        var next = Read(fingerprint);
        if (next.Unreadable.Count > 0)
            return new FolderReload(false, next.Unreadable, _current.Signers.Count, _current.Recipients.Count, next.Fingerprint, Changed: false);
        var changed = next.Identity != _current.Identity;
        _current = next;
        if (changed) LogReloaded(_path, next.Signers.Count, next.Recipients.Count);
        return new FolderReload(true, [], next.Signers.Count, next.Recipients.Count, next.Fingerprint, changed);
    }

    private static List<CertificateCandidate> Candidates(Dictionary<string, List<CertificateCandidate>> index, string address) =>
        index.TryGetValue(MailAddress.LookupKey(address), out var list) ? list : [];

    private Contents Read(string? fingerprint = null)
    {
        var signers = new List<(X509Certificate2 Certificate, string Source)>();
        var recipients = new List<(X509Certificate2 Certificate, string Source)>();
        var intermediates = new List<X509Certificate2>();
        var unreadable = new List<string>();
        fingerprint ??= FolderFingerprint();
        if (!Directory.Exists(_path)) return new Contents([], [], [], [], [$"{_path}: the folder does not exist"], fingerprint, "");
        string? password;
        try
        {
            password = Pkcs12Password(_settings); // read each time: the password file may have changed with the keys
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return new Contents([], [], [], [], [$"{_settings.Pkcs12PasswordFile}: {e.Message}"], fingerprint, "");
        }
        foreach (var file in Directory.EnumerateFiles(_path).Order(StringComparer.Ordinal))
        {
            var source = "local:" + Path.GetFileName(file);
            try
            {
                if (HasExtension(IdentityExtensions)(file))
                {
                    // As at start (SecretFilePermissions): a key others can read is not taken in while running either.
                    if (!_allowInsecureKeys && SecretFilePermissions.Exposure(file) is { } exposure)
                    {
                        unreadable.Add(exposure);
                        continue;
                    }
                    LoadIdentity(file, password, source, signers, intermediates);
                }
                else if (HasExtension(CertificateExtensions)(file))
                {
                    var certificates = LoadCertificates(file);
                    // A PEM cut off by a copy still in progress reads as no certificate at all.
                    if (certificates.Count == 0) throw new CryptographicException("no certificate in it (a PEM file cut short?)");
                    foreach (var certificate in certificates)
                    {
                        if (IsCertificateAuthority(certificate)) intermediates.Add(certificate);
                        else recipients.Add((certificate, source));
                    }
                }
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                // Deleted between the listing and the reading: it is not there, which is no error.
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                // The message names the file, never the password.
                unreadable.Add($"{file}: {e.Message}");
            }
        }
        var anchors = ReadAnchors(unreadable);
        // A certificate whose key the gateway holds belongs to an internal user, who reads mail
        // without that key (the point of a gateway): encrypting to it would make the mail unreadable.
        var identities = signers.Select(c => c.Certificate.Thumbprint).ToHashSet(StringComparer.OrdinalIgnoreCase);
        var kept = recipients.Where(r => !identities.Contains(r.Certificate.Thumbprint)).ToList();
        // What is in use, to tell a reload that changed it from one that found the same certificates.
        var identity = string.Join("\n", signers.Select(c => "S" + c.Certificate.Thumbprint + c.Source)
            .Concat(kept.Select(c => "R" + c.Certificate.Thumbprint + c.Source)).Concat(intermediates.Select(c => "I" + c.Thumbprint))
            .Concat(anchors.Select(c => "A" + c.Thumbprint)).Order(StringComparer.Ordinal));
        return new Contents(anchors, Index(signers), Index(kept), new X509Certificate2Collection(intermediates.ToArray()), unreadable, fingerprint, identity);
    }

    /// <summary>The trust anchors (Certificates:TrustAnchors, files or folders); one that cannot be read, or holds none, is a problem like any file of the folder.</summary>
    private X509Certificate2Collection ReadAnchors(List<string> unreadable)
    {
        var anchors = new X509Certificate2Collection();
        foreach (var file in AnchorFiles())
        {
            try
            {
                var certificates = LoadCertificates(file);
                if (certificates.Count == 0) throw new CryptographicException("no certificate in it (a PEM file cut short?)");
                anchors.AddRange(certificates);
            }
            catch (Exception e) when (e is CryptographicException or IOException or UnauthorizedAccessException)
            {
                unreadable.Add($"{file} (trust anchor): {e.Message}");
            }
        }
        return anchors;
    }

    /// <summary>The anchor files; a folder that cannot be listed stands for itself, so reading it names the problem.</summary>
    private List<string> AnchorFiles()
    {
        var files = new List<string>();
        foreach (var anchor in _settings.EffectiveTrustAnchors)
        {
            try
            {
                if (Directory.Exists(anchor)) files.AddRange(Directory.EnumerateFiles(anchor).Where(HasExtension(CertificateExtensions)).Order(StringComparer.Ordinal));
                else files.Add(anchor);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                files.Add(anchor);
            }
        }
        return files;
    }

    private static void LoadIdentity(string file, string? password, string source, List<(X509Certificate2, string)> signers, List<X509Certificate2> intermediates)
    {
        var collection = X509CertificateLoader.LoadPkcs12CollectionFromFile(file, password, X509KeyStorageFlags.EphemeralKeySet);
        foreach (var certificate in collection)
        {
            if (certificate.HasPrivateKey) signers.Add((certificate, source));
            else if (IsCertificateAuthority(certificate)) intermediates.Add(certificate);
        }
    }

    private static Dictionary<string, List<CertificateCandidate>> Index(IEnumerable<(X509Certificate2 Certificate, string Source)> certificates)
    {
        var index = new Dictionary<string, List<CertificateCandidate>>(StringComparer.OrdinalIgnoreCase);
        foreach (var (certificate, source) in certificates)
        {
            // Once per key: a certificate naming one address in both IDN forms is still one candidate.
            foreach (var address in SmimeCertificateValidator.EmailAddresses(certificate).Select(MailAddress.LookupKey).Distinct())
            {
                if (!index.TryGetValue(address, out var list)) index[address] = list = [];
                list.Add(new CertificateCandidate(certificate, source));
            }
        }
        return index;
    }

    /// <summary>
    /// SHA-256 over the names, modes and contents of the files this store reads, and of the
    /// PKCS#12 password file: contents, not sizes and times, so a symlink swapped under a mounted
    /// secret, or a same-size rewrite within a timestamp's granularity, is seen. Nothing secret
    /// stays in it.
    /// </summary>
    private string FolderFingerprint()
    {
        if (!Directory.Exists(_path)) return "missing";
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        IEnumerable<string> files = Directory.EnumerateFiles(_path).Where(f => HasExtension(IdentityExtensions)(f) || HasExtension(CertificateExtensions)(f)).Order(StringComparer.Ordinal);
        if (!string.IsNullOrEmpty(_settings.Pkcs12PasswordFile)) files = files.Append(_settings.Pkcs12PasswordFile);
        files = files.Concat(AnchorFiles()); // anchors may live outside the folder: the periodic check sees them change
        foreach (var file in files)
        {
            try
            {
                var mode = OperatingSystem.IsWindows() ? 0 : (int)File.GetUnixFileMode(file); // a chmod 600 makes a refused key usable
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{file}|{mode}|"));
                hash.AppendData(File.ReadAllBytes(file));
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                hash.AppendData(System.Text.Encoding.UTF8.GetBytes($"{file}|unreadable|"));
            }
        }
        return Convert.ToHexString(hash.GetHashAndReset());
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

    [LoggerMessage(EventId = 4001, Level = LogLevel.Information, Message = "Certificate store {Path} read (sender addresses with a signing identity: {Signers}, recipient addresses: {Recipients}, trust anchors: {Anchors})")]
    private partial void LogLoaded(string path, int signers, int recipients, int anchors);

    [LoggerMessage(EventId = 4002, Level = LogLevel.Error, Message = "Certificate file could not be read: {Problem}")]
    private partial void LogUnreadable(string problem);

    [LoggerMessage(EventId = 4003, Level = LogLevel.Information, Message = "Certificate store {Path} reloaded (sender addresses with a signing identity: {Signers}, recipient addresses: {Recipients})")]
    private partial void LogReloaded(string path, int signers, int recipients);


    /// <summary>One reading of the folder and the anchors; replaced whole, never changed. <paramref name="Identity"/> names the certificates it holds.</summary>
    private sealed record Contents(
        X509Certificate2Collection Anchors,
        Dictionary<string, List<CertificateCandidate>> Signers,
        Dictionary<string, List<CertificateCandidate>> Recipients,
        X509Certificate2Collection Intermediates,
        IReadOnlyList<string> Unreadable,
        string Fingerprint,
        string Identity);
}

/// <summary>What a reload of the certificate folder did: taken, or refused for the files named; the counts now in use.</summary>
/// <param name="Changed">Taken, and the certificates in use differ from before (not only the files' bytes or modes).</param>
public sealed record FolderReload(bool Taken, IReadOnlyList<string> Unreadable, int Signers, int Recipients, string Fingerprint, bool Changed);
