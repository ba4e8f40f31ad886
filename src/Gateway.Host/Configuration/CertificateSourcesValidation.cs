using Gateway.Certificates;

namespace Gateway.Configuration;

/// <summary>Start-time checks of Gateway:Certificates:Sources, LookupFailureGrace and the LDAP directories.</summary>
internal static class CertificateSourcesValidation
{
    public static void Check(CertificatesOptions certificates, List<string> errors)
    {
        foreach (var source in certificates.EffectiveSources)
        {
            if (!CertificatesOptions.KnownSources.Contains(source, StringComparer.OrdinalIgnoreCase))
                errors.Add($"Gateway:Certificates:Sources: '{source}' is not a source (known: {string.Join(", ", CertificatesOptions.KnownSources)})");
        }
        if (certificates.EffectiveSources.GroupBy(s => s, StringComparer.OrdinalIgnoreCase).Any(g => g.Count() > 1))
            errors.Add("Gateway:Certificates:Sources: each source may be named once");
        if (certificates.LookupFailureGrace < TimeSpan.Zero)
            errors.Add("Gateway:Certificates:LookupFailureGrace must not be negative (e.g. 01:00:00)");

        if (string.IsNullOrWhiteSpace(certificates.Cache.Path)) errors.Add("Gateway:Certificates:Cache:Path must not be empty");
        if (certificates.Cache.PositiveTtl <= TimeSpan.Zero) errors.Add("Gateway:Certificates:Cache:PositiveTtl must be a positive duration (e.g. 1.00:00:00)");
        if (certificates.Cache.NegativeTtl < TimeSpan.Zero) errors.Add("Gateway:Certificates:Cache:NegativeTtl must not be negative (e.g. 01:00:00)");

        for (var i = 0; i < certificates.Ldap.Length; i++)
        {
            var ldap = certificates.Ldap[i];
            var key = $"Gateway:Certificates:Ldap:{i}";
            if (!Uri.TryCreate(ldap.Url, UriKind.Absolute, out var url) || url.Scheme is not ("ldap" or "ldaps") || string.IsNullOrEmpty(url.Host))
                errors.Add($"{key}:Url: '{ldap.Url}' is not an ldap:// or ldaps:// URL");
            else if (ldap.StartTls && url.Scheme == "ldaps")
                errors.Add($"{key}:StartTls: ldaps:// is TLS already; StartTls applies to ldap:// only");
            else if (!string.IsNullOrEmpty(ldap.TrustedCertificates) && url.Scheme == "ldap" && !ldap.StartTls)
                errors.Add($"{key}:TrustedCertificates applies to TLS: use ldaps:// or StartTls");
            if (!string.IsNullOrEmpty(ldap.TrustedCertificates) && OperatingSystem.IsWindows())
                errors.Add($"{key}:TrustedCertificates is for OpenLDAP on Linux; on Windows put the CA in the certificate store");
            else if (!string.IsNullOrEmpty(ldap.TrustedCertificates) && !Directory.Exists(ldap.TrustedCertificates))
                errors.Add($"{key}:TrustedCertificates: folder '{GatewayOptionsValidator.Absolute(ldap.TrustedCertificates)}' does not exist (a folder of PEM CA certificates)");
            else if (!string.IsNullOrEmpty(ldap.TrustedCertificates) && !HoldsPemCertificate(ldap.TrustedCertificates))
                errors.Add($"{key}:TrustedCertificates: folder '{ldap.TrustedCertificates}' holds no PEM certificate");
            if (string.IsNullOrWhiteSpace(ldap.BaseDn)) errors.Add($"{key}:BaseDn must not be empty (e.g. ou=people,dc=example,dc=com)");
            if (LdapFilter.Problem(ldap.Filter) is { } problem) errors.Add($"{key}:Filter: '{ldap.Filter}' {problem}");
            if (ldap.Timeout <= TimeSpan.Zero) errors.Add($"{key}:Timeout must be a positive duration (e.g. 00:00:10)");
            else if (ldap.Timeout > GatewayOptionsValidator.LongestTimer) errors.Add(GatewayOptionsValidator.TooLong($"{key}:Timeout"));
            if (ldap.SizeLimit < 1) errors.Add($"{key}:SizeLimit must be at least 1");
            if (!string.IsNullOrEmpty(ldap.BindPasswordFile) && !File.Exists(ldap.BindPasswordFile))
                errors.Add($"{key}:BindPasswordFile: file '{GatewayOptionsValidator.Absolute(ldap.BindPasswordFile)}' does not exist");
            if (string.IsNullOrEmpty(ldap.BindDn) && (!string.IsNullOrEmpty(ldap.BindPassword) || !string.IsNullOrEmpty(ldap.BindPasswordFile)))
                errors.Add($"{key}:BindPassword is set but BindDn is empty");
        }
        if (certificates.Ldap.Any(UsesTls) && LdapTlsVerification.Weakened() is { } weakened)
            errors.Add($"Gateway:Certificates:Ldap: {weakened} (from /etc/ldap/ldap.conf, LDAPCONF, ~/.ldaprc, ./ldaprc or LDAPTLS_REQCERT): the directories' TLS certificates would not be verified; set it to demand, or remove it");
        if (certificates.Ldap.Length > 0 && !certificates.EffectiveSources.Contains("ldap", StringComparer.OrdinalIgnoreCase))
            errors.Add("Gateway:Certificates:Ldap is configured but 'ldap' is not in Gateway:Certificates:Sources");
    }

    private static bool UsesTls(LdapDirectoryOptions ldap) => ldap.StartTls || ldap.Url.StartsWith("ldaps:", StringComparison.OrdinalIgnoreCase);

    private static bool HoldsPemCertificate(string folder)
    {
        foreach (var file in Directory.EnumerateFiles(folder))
        {
            try
            {
                using var certificate = System.Security.Cryptography.X509Certificates.X509Certificate2.CreateFromPem(File.ReadAllText(file));
                return true;
            }
            catch (Exception e) when (e is System.Security.Cryptography.CryptographicException or IOException or UnauthorizedAccessException or ArgumentException)
            {
                // not a PEM certificate; the next file may be
            }
        }
        return false;
    }
}
