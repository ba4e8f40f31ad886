using Gateway.Policy;

namespace Gateway.Configuration;

/// <summary>Start-time checks of Gateway:Ca (only when it is enabled).</summary>
internal static class CaSettingsValidation
{
    public static void Check(GatewayOptions options, List<string> errors)
    {
        var ca = options.Ca;
        if (!ca.Enabled) return;
        if (!CaOptions.KnownIssuers.Contains(ca.Issuer, StringComparer.Ordinal))
            errors.Add($"Gateway:Ca:Issuer: '{ca.Issuer}' is not an issuer (known: {string.Join(", ", CaOptions.KnownIssuers)}; external CAs such as ACME for S/MIME are not available yet)");
        if (string.IsNullOrWhiteSpace(ca.Path)) errors.Add("Gateway:Ca:Path must not be empty");
        if (ca.EligibleSenders is not { Length: > 0 } && ca.EligibleGroup is null)
            errors.Add("Gateway:Ca:EligibleSenders or Gateway:Ca:EligibleGroup must say who gets a certificate (e.g. EligibleSenders: [\"example.com\"])");
        foreach (var pattern in ca.EligibleSenders ?? [])
            if (!AddressPattern.TryParse(pattern, out _, out var problem)) errors.Add($"Gateway:Ca:EligibleSenders: {problem}");
        if (ca.EligibleGroup is { } group) CheckGroup(group, options.Certificates, errors);
        if (ca.ValidityDays is < 1 or > 825) errors.Add("Gateway:Ca:ValidityDays must be between 1 and 825 (CA/Browser Forum S/MIME limit)");
        if (ca.RenewBeforeDays < 1 || ca.RenewBeforeDays >= ca.ValidityDays) errors.Add("Gateway:Ca:RenewBeforeDays must be at least 1 and less than ValidityDays");
        CheckPassword(ca, errors);
        GatewayOptionsValidator.CheckHttpPrefix(errors, "Gateway:Ca:CrlHttpPrefix", ca.CrlHttpPrefix, "http://+:8080/pki/");
    }

    /// <summary>
    /// An empty password still "encrypts" a PKCS#12, so without this check every key would be
    /// stored under a password anyone can guess, and nothing would say so.
    /// </summary>
    private static void CheckPassword(CaOptions ca, List<string> errors)
    {
        if (!string.IsNullOrEmpty(ca.PasswordFile))
        {
            if (!File.Exists(ca.PasswordFile)) errors.Add($"Gateway:Ca:PasswordFile: file '{GatewayOptionsValidator.Absolute(ca.PasswordFile)}' does not exist");
            else if (string.IsNullOrWhiteSpace(SecretFile.FirstLine(ca.PasswordFile)))
                errors.Add($"Gateway:Ca:PasswordFile: the first line of '{ca.PasswordFile}' is empty; it must hold the password that protects the CA and issued keys");
        }
        else if (ca.Password is null)
            errors.Add("Gateway:Ca:Password or Gateway:Ca:PasswordFile must be set: CA and issued keys are never stored unencrypted");
        else if (string.IsNullOrWhiteSpace(ca.Password))
            errors.Add("Gateway:Ca:Password is empty: CA and issued keys are never stored under an empty password (set it, or Gateway:Ca:PasswordFile)");
    }

    private static void CheckGroup(EligibleGroupOptions group, CertificatesOptions certificates, List<string> errors)
    {
        const string key = "Gateway:Ca:EligibleGroup";
        var names = certificates.Ldap.Select(d => d.EffectiveName).ToList();
        if (!names.Contains(group.Directory, StringComparer.OrdinalIgnoreCase))
            errors.Add($"{key}:Directory: '{group.Directory}' is not the Name of a directory in Gateway:Certificates:Ldap (known: {(names.Count == 0 ? "none" : string.Join(", ", names))})");
        if (string.IsNullOrWhiteSpace(group.GroupDn)) errors.Add($"{key}:GroupDn must name the group (e.g. cn=smime-users,ou=groups,dc=example,dc=com)");
        if (!IsAttributeName(group.MemberAttribute)) errors.Add($"{key}:MemberAttribute: '{group.MemberAttribute}' is not an attribute name (member or uniqueMember)");
        if (!IsAttributeName(group.MailAttribute)) errors.Add($"{key}:MailAttribute: '{group.MailAttribute}' is not an attribute name (e.g. mail)");
        if (group.CacheDuration <= TimeSpan.Zero) errors.Add($"{key}:CacheDuration must be a positive duration (e.g. 00:15:00)");
        if (group.StaleMembershipMaxAge < TimeSpan.Zero) errors.Add($"{key}:StaleMembershipMaxAge must be zero or a positive duration (e.g. 1.00:00:00)");
    }

    /// <summary>RFC 4512 descr: a letter, then letters, digits and hyphens (an option such as ;binary is not wanted here).</summary>
    private static bool IsAttributeName(string? name) =>
        !string.IsNullOrEmpty(name) && char.IsAsciiLetter(name[0]) && name.All(c => char.IsAsciiLetterOrDigit(c) || c == '-');
}
