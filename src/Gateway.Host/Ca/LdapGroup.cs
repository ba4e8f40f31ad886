using System.DirectoryServices.Protocols;
using Gateway.Certificates;
using Gateway.Configuration;

namespace Gateway.Ca;

/// <summary>
/// Reads who is in Gateway:Ca:EligibleGroup: the group entry's member DNs (MemberAttribute),
/// then each member entry's mail addresses (MailAttribute), all as base-scope reads by DN, so no
/// address or DN is ever put into a search filter. A member DN that does not exist is skipped;
/// nested groups are not expanded (a group has no mail address of its own).
/// </summary>
public sealed class LdapGroup(LdapDirectoryOptions directory, EligibleGroupOptions group)
{
    private const string AnyEntry = "(objectClass=*)";

    public string Name => $"group {group.GroupDn} in ldap:{directory.EffectiveName}";

    public async Task<GroupMembership> ReadAsync(CancellationToken cancellationToken)
    {
        try
        {
            return GroupMembership.Read(await LdapConnections.RunAsync(directory, Members, cancellationToken));
        }
        catch (Exception e) when (LdapConnections.Failure(e, directory) is { } reason)
        {
            return GroupMembership.Unavailable($"{Name} could not be read: {reason}");
        }
    }

    private HashSet<string> Members()
    {
        using var connection = LdapConnections.Open(directory);
        var addresses = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
        // A group that does not exist is a failure, not an empty group: a typo in GroupDn must not look like "nobody is eligible" silently.
        var entry = Read(connection, group.GroupDn, group.MemberAttribute)
            ?? throw new DirectoryOperationException($"the group {group.GroupDn} does not exist");
        foreach (var member in Values(entry, group.MemberAttribute))
        {
            var person = Read(connection, member, group.MailAttribute);
            if (person is null) continue;
            foreach (var mail in Values(person, group.MailAttribute)) addresses.Add(mail.Trim());
        }
        return addresses;
    }

    private SearchResultEntry? Read(LdapConnection connection, string dn, string attribute)
    {
        var request = new SearchRequest(dn, AnyEntry, SearchScope.Base, attribute) { TimeLimit = directory.Timeout };
        try
        {
            var response = (SearchResponse)connection.SendRequest(request, directory.Timeout);
            return response.Entries.Count == 0 ? null : response.Entries[0];
        }
        catch (DirectoryOperationException e) when (e.Response?.ResultCode == ResultCode.NoSuchObject)
        {
            return null;
        }
    }

    private static IEnumerable<string> Values(SearchResultEntry entry, string attribute) =>
        entry.Attributes.Contains(attribute) ? entry.Attributes[attribute].GetValues(typeof(string)).Cast<string>() : [];
}
