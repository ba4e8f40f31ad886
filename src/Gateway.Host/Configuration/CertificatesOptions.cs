namespace Gateway.Configuration;

public sealed class CertificatesOptions
{
    /// <summary>
    /// Folder of the local store: *.p12/*.pfx are signing identities of internal senders,
    /// *.crt/*.pem/*.cer/*.der are recipient certificates (and intermediates).
    /// </summary>
    public string Path { get; set; } = "certs-sample";

    /// <summary>Certificates (files or folders) that S/MIME certificates must chain to. Null: Path/ca.crt.</summary>
    public string[]? TrustAnchors { get; set; }

    /// <summary>Password of the PKCS#12 files; prefer Gateway__Certificates__Pkcs12Password in the environment.</summary>
    public string? Pkcs12Password { get; set; }

    /// <summary>A file holding the PKCS#12 password (first line), readable only by the service.</summary>
    public string? Pkcs12PasswordFile { get; set; }

    /// <summary>
    /// Start even when a private key file or password file can be read by group or others. Only for
    /// public test keys (the shipped sample): a git checkout makes every file 0644.
    /// </summary>
    public bool AllowInsecureKeyPermissions { get; set; }

    /// <summary>How often the folder is compared with what was read from it, besides the file-system watcher's events.</summary>
    public TimeSpan ReloadCheckInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// Where certificates are looked for, in this order: "local" (the folder), "cache" (the
    /// persistent cache of earlier directory answers), "ldap" (every entry of <see cref="Ldap"/>, in
    /// order), "harvested" (certificates imported or taken from signed mail). Null: all four, in
    /// that order (null, not an array default, because the binder appends to a default array).
    /// </summary>
    public string[]? Sources { get; set; }

    public IReadOnlyList<string> EffectiveSources => Sources ?? KnownSources;

    /// <summary>
    /// How many of a recipient's usable, unrevoked certificates a copy is encrypted to, newest
    /// first: a recipient who renewed, or who has a key per device or mail client, can read it
    /// with any of them. 1 encrypts to the newest only.
    /// </summary>
    public int MaxEncryptionCertificates { get; set; } = 4;

    /// <summary>How long a message waits for a certificate source that does not answer before it goes on as if no certificate existed.</summary>
    public TimeSpan LookupFailureGrace { get; set; } = TimeSpan.FromHours(1);

    public CertificateCacheOptions Cache { get; set; } = new();

    /// <summary>CRL and OCSP checking of the certificates chosen for signing and encryption.</summary>
    public RevocationOptions Revocation { get; set; } = new();

    /// <summary>LDAP directories asked for recipients' certificates (source "ldap").</summary>
    public LdapDirectoryOptions[] Ldap { get; set; } = [];

    public static readonly string[] KnownSources = ["local", "cache", "ldap", "harvested"];

    public IReadOnlyList<string> EffectiveTrustAnchors => TrustAnchors ?? [System.IO.Path.Combine(Path, "ca.crt")];
}
