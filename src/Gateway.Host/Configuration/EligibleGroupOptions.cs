namespace Gateway.Configuration;

/// <summary>
/// Gateway:Ca:EligibleGroup: an LDAP group whose members are enrolled. The group entry lists its
/// members' DNs in <see cref="MemberAttribute"/> (groupOfNames "member", groupOfUniqueNames
/// "uniqueMember", Active Directory "member"); each member entry's <see cref="MailAttribute"/>
/// values are the eligible addresses. The connection is that of a directory of
/// Gateway:Certificates:Ldap, named by <see cref="Directory"/>.
/// </summary>
public sealed class EligibleGroupOptions
{
    /// <summary>The Name of an entry of Gateway:Certificates:Ldap (its URL, TLS, bind and timeout are used).</summary>
    public string Directory { get; set; } = string.Empty;

    /// <summary>The group's DN, e.g. cn=smime-users,ou=groups,dc=example,dc=com.</summary>
    public string GroupDn { get; set; } = string.Empty;

    public string MemberAttribute { get; set; } = "member";

    public string MailAttribute { get; set; } = "mail";

    /// <summary>How long a membership list read from the directory is used before it is read again.</summary>
    public TimeSpan CacheDuration { get; set; } = TimeSpan.FromMinutes(15);

    /// <summary>
    /// While the group cannot be read, the member list last read is used for this long after it
    /// was read; after that, eligibility is unknown and group senders do not sign with the CA's
    /// certificates. Zero: never use an old list.
    /// </summary>
    public TimeSpan StaleMembershipMaxAge { get; set; } = TimeSpan.FromDays(1);
}
