namespace Gateway.Mail;

/// <summary>
/// An envelope address split into local part and domain. The domain is compared
/// case-insensitively everywhere (RFC 5321 §2.4); the local part is kept as written for SMTP
/// because only the receiving domain may interpret its case. Certificates are bound to it
/// ignoring the ASCII case of the local part too (<see cref="SameMailboxAs"/>, <see cref="LookupKey"/>).
/// </summary>
public readonly record struct MailAddress(string LocalPart, string Domain)
{
    public static MailAddress Null { get; } = new(string.Empty, string.Empty);

    public bool IsNull => LocalPart.Length == 0 && Domain.Length == 0;

    public static MailAddress Parse(string address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var trimmed = address.Trim().Trim('<', '>');
        if (trimmed.Length == 0) return Null;
        var at = trimmed.LastIndexOf('@');
        return at < 0 ? new MailAddress(trimmed, string.Empty) : new MailAddress(trimmed[..at], trimmed[(at + 1)..]);
    }

    /// <summary>
    /// Same mailbox as far as a certificate or a directory is concerned: local part ignoring ASCII
    /// case, domain case-insensitive and in either IDN form (<see cref="DomainName"/>). RFC 5280 §7.5
    /// would compare the local part exactly, but Thunderbird/NSS, Outlook and LDAP's mail attribute
    /// ignore its case, and an exact compare only refused certificates every lookup had found
    /// (mail to Bob.Smith@ in clear with bob.smith@'s certificate on file). Only ASCII folds: an
    /// rfc822Name is ASCII, and a Unicode fold would make the Kelvin sign a k.
    /// </summary>
    public bool SameMailboxAs(MailAddress other) =>
        string.Equals(AsciiLower(LocalPart), AsciiLower(other.LocalPart), StringComparison.Ordinal) &&
        (string.Equals(Domain, other.Domain, StringComparison.OrdinalIgnoreCase) || DomainName.Ascii(Domain) == DomainName.Ascii(other.Domain));

    /// <summary>
    /// The key certificates are stored and looked up under: the local part in ASCII lower case (as
    /// <see cref="SameMailboxAs"/> compares it, so addresses with one key share every answer), the
    /// domain in its ASCII form, so a certificate for user@xn--bcher-kva.example is found for mail
    /// to user@bücher.example and the other way round.
    /// </summary>
    public static string LookupKey(string address)
    {
        var parsed = Parse(address);
        return parsed.Domain.Length == 0 ? AsciiLower(parsed.LocalPart) : $"{AsciiLower(parsed.LocalPart)}@{DomainName.Ascii(parsed.Domain)}";
    }

    private static string AsciiLower(string text) =>
        text.Any(char.IsAsciiLetterUpper) ? string.Create(text.Length, text, (span, source) =>
        {
            for (var i = 0; i < source.Length; i++) span[i] = char.IsAsciiLetterUpper(source[i]) ? (char)(source[i] | 0x20) : source[i];
        }) : text;

    /// <summary>The address as written, then with its domain in the other IDN form when that differs (for a directory that stores either).</summary>
    public static IReadOnlyList<string> Spellings(string address)
    {
        var parsed = Parse(address);
        if (parsed.Domain.Length == 0) return [address];
        return new[] { address, $"{parsed.LocalPart}@{DomainName.Ascii(parsed.Domain)}", $"{parsed.LocalPart}@{DomainName.Unicode(parsed.Domain)}" }
            .Distinct(StringComparer.OrdinalIgnoreCase).ToList();
    }

    public override string ToString() => IsNull ? string.Empty : Domain.Length == 0 ? LocalPart : $"{LocalPart}@{Domain}";
}
