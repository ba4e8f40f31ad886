namespace Gateway.Mail;

/// <summary>
/// An envelope address split into local part and domain. The domain is compared
/// case-insensitively everywhere (RFC 5321 §2.4); the local part is kept as written
/// because only the receiving domain may interpret its case.
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

    /// <summary>Same mailbox: local part exact, domain case-insensitive and in either IDN form (<see cref="DomainName"/>).</summary>
    public bool SameMailboxAs(MailAddress other) =>
        string.Equals(LocalPart, other.LocalPart, StringComparison.Ordinal) &&
        (string.Equals(Domain, other.Domain, StringComparison.OrdinalIgnoreCase) || DomainName.Ascii(Domain) == DomainName.Ascii(other.Domain));

    public override string ToString() => IsNull ? string.Empty : Domain.Length == 0 ? LocalPart : $"{LocalPart}@{Domain}";
}
