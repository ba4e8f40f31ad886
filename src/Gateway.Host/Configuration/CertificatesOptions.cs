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

    public IReadOnlyList<string> EffectiveTrustAnchors => TrustAnchors ?? [System.IO.Path.Combine(Path, "ca.crt")];
}
