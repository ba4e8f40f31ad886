namespace Gateway.Configuration;

/// <summary>
/// Files that hold secrets (PKCS#12 identities, the TLS key, the password files of the PKCS#12
/// identities, the CA and the LDAP binds, the AUTH users file) must not be readable by group or others: Gateway refuses to start otherwise and
/// names each file, unless Gateway:Certificates:AllowInsecureKeyPermissions is true.
/// </summary>
public static class SecretFilePermissions
{
    private const UnixFileMode GroupOrOther =
        UnixFileMode.GroupRead | UnixFileMode.GroupWrite | UnixFileMode.GroupExecute |
        UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute;

    private static readonly string[] IdentityExtensions = [".p12", ".pfx"];

    public static IEnumerable<string> Problems(GatewayOptions options)
    {
        if (OperatingSystem.IsWindows() || options.Certificates.AllowInsecureKeyPermissions) yield break;
        foreach (var (key, file) in SecretFiles(options))
        {
            if (Exposure(file) is { } exposure) yield return $"{key}: {exposure}";
        }
    }

    /// <summary>Why the file must not be used (it exists and group or others may access it), or null; Windows is not checked.</summary>
    public static string? Exposure(string file)
    {
        if (OperatingSystem.IsWindows() || !File.Exists(file)) return null;
        var mode = File.GetUnixFileMode(file);
        if ((mode & GroupOrOther) == 0) return null;
        return $"'{file}' holds a secret but is accessible to other users (mode {Octal(mode)}); " +
            "run chmod 600 on it (owned by the service user), or set Gateway:Certificates:AllowInsecureKeyPermissions=true for public test keys only";
    }

    private static IEnumerable<(string Key, string File)> SecretFiles(GatewayOptions options)
    {
        var certificates = options.Certificates;
        if (Directory.Exists(certificates.Path))
        {
            foreach (var file in Directory.EnumerateFiles(certificates.Path).Order(StringComparer.Ordinal))
            {
                if (IdentityExtensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase)) yield return ("Gateway:Certificates:Path", file);
            }
        }
        if (!string.IsNullOrEmpty(certificates.Pkcs12PasswordFile)) yield return ("Gateway:Certificates:Pkcs12PasswordFile", certificates.Pkcs12PasswordFile);
        var tls = options.Smtp.Tls;
        if (!string.IsNullOrEmpty(tls.KeyPath)) yield return ("Gateway:Smtp:Tls:KeyPath", tls.KeyPath);
        else if (!string.IsNullOrEmpty(tls.CertificatePath)) yield return ("Gateway:Smtp:Tls:CertificatePath", tls.CertificatePath);
        if (!string.IsNullOrEmpty(options.Smtp.Auth.UsersFile)) yield return ("Gateway:Smtp:Auth:UsersFile", options.Smtp.Auth.UsersFile);
        if (!string.IsNullOrEmpty(options.Ca.PasswordFile)) yield return ("Gateway:Ca:PasswordFile", options.Ca.PasswordFile);
        for (var i = 0; i < certificates.Ldap.Length; i++)
            if (!string.IsNullOrEmpty(certificates.Ldap[i].BindPasswordFile)) yield return ($"Gateway:Certificates:Ldap:{i}:BindPasswordFile", certificates.Ldap[i].BindPasswordFile!);
    }

    private static string Octal(UnixFileMode mode) => "0" + Convert.ToString((int)mode & 0x1FF, 8);
}
