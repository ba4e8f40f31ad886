using Gateway.Testing.Peers;

namespace Gateway.Tests.Ca;

/// <summary>
/// A real slapd with frank, grace and heidi under ou=people, and the group cn=smime-users whose
/// members are frank, heidi and a DN that no longer exists; the CA settings point at it.
/// </summary>
public static class CompanyDirectory
{
    public const string Group = "cn=smime-users," + SlapdInstance.Suffix;

    public static async Task<SlapdInstance> StartAsync(Dictionary<string, string?> settings)
    {
        var slapd = await SlapdInstance.StartAsync();
        foreach (var uid in new[] { "frank", "grace", "heidi" }) await slapd.AddPersonAsync(uid, $"{uid}@example.test");
        await slapd.AddAsync($"dn: {Group}\nobjectClass: groupOfNames\ncn: smime-users\n" +
            $"member: uid=frank,{SlapdInstance.People}\nmember: uid=heidi,{SlapdInstance.People}\nmember: uid=gone,{SlapdInstance.People}\n");
        settings["Gateway:Certificates:Ldap:0:Name"] = "corp";
        settings["Gateway:Certificates:Ldap:0:Url"] = slapd.Url;
        settings["Gateway:Certificates:Ldap:0:BaseDn"] = SlapdInstance.People;
        settings["Gateway:Certificates:Ldap:0:Timeout"] = "00:00:03";
        settings["Gateway:Ca:EligibleGroup:Directory"] = "corp";
        settings["Gateway:Ca:EligibleGroup:GroupDn"] = Group;
        return slapd;
    }
}
