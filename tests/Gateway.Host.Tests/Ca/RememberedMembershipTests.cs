using Gateway.Ca;

namespace Gateway.Tests.Ca;

/// <summary>The member list kept for outages is used only when it is this group's, readable, and not from the future.</summary>
public sealed class RememberedMembershipTests : IDisposable
{
    private const string Group = "group cn=smime-users,dc=example,dc=test in ldap:corp";
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-members-").FullName;
    private readonly DateTimeOffset _now = new(2026, 11, 27, 12, 0, 0, TimeSpan.Zero);

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    [Fact]
    public void ASavedList_IsLoadedForTheSameGroup_AndNotForAnother()
    {
        var saved = new RememberedMembership(_folder, Group);
        Assert.True(saved.TrySave(GroupMembership.Read(new HashSet<string> { "frank@example.test" }), _now.AddHours(-1)));

        var loaded = new RememberedMembership(_folder, Group).Load(_now);

        Assert.NotNull(loaded);
        Assert.Contains("frank@example.test", loaded.Value.Members.Addresses);
        Assert.Equal(_now.AddHours(-1), loaded.Value.ReadAt);
        Assert.Null(new RememberedMembership(_folder, "group cn=other,dc=example,dc=test in ldap:corp").Load(_now));
    }

    [Fact]
    public void AListDatedInTheFuture_IsIgnored_ForItsAgeCouldNeverPassTheMaximum()
    {
        new RememberedMembership(_folder, Group).TrySave(GroupMembership.Read(new HashSet<string> { "frank@example.test" }), _now.AddDays(2));
        Assert.Null(new RememberedMembership(_folder, Group).Load(_now));
    }

    [Theory]
    [InlineData("{\"group\":\"" + Group + "\",\"readAt\":\"2026-11-27T11:00:00+00:00\"}")]
    [InlineData("not json")]
    [InlineData("")]
    public void AnIncompleteOrBrokenFile_IsIgnored_NeverStopsTheStart(string content)
    {
        File.WriteAllText(Path.Combine(_folder, "group-members.json"), content);
        Assert.Null(new RememberedMembership(_folder, Group).Load(_now));
    }
}
