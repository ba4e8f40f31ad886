using Gateway.Ca;
using Gateway.Testing.Peers;

namespace Gateway.Tests.Ca;

/// <summary>Members of an LDAP group (a real slapd) are enrolled; a directory outage enrols nobody and says why.</summary>
public sealed class GroupEligibilityTests : IAsyncLifetime
{
    private readonly CaFixture _ca = new();
    private SlapdInstance _slapd = null!;

    public async Task InitializeAsync() => _slapd = await CompanyDirectory.StartAsync(_ca.Settings);

    public async Task DisposeAsync()
    {
        await _slapd.DisposeAsync();
        _ca.Dispose();
    }

    [Fact]
    public async Task GroupMember_IsEnrolledOnFirstMail_AndANonMemberIsNot()
    {
        var authority = _ca.Authority();
        var directory = _ca.Enrolling(authority, _ca.Eligibility());

        var frank = await directory.FindSignerAsync("Frank@example.test", CancellationToken.None);
        var grace = await directory.FindSignerAsync("grace@example.test", CancellationToken.None);

        Assert.True(frank.Found, frank.Reason);
        var issued = Assert.Single(_ca.Audit.Events, e => e.Event == "certificate-issued");
        Assert.Equal("frank@example.test", issued.Recipient);
        Assert.Contains($"member of group {CompanyDirectory.Group} in ldap:corp", issued.Action);
        Assert.Equal(authority.Name, issued.Issuer);
        Assert.False(grace.Found);
        Assert.Empty(authority.IssuedTo("grace@example.test"));
    }

    [Theory]
    [InlineData("*")]
    [InlineData("*)(mail=*")]
    [InlineData("uid=frank,ou=people,dc=example,dc=test")]
    public async Task AddressesThatLookLikeFiltersOrDns_AreNotMembers(string address)
    {
        var eligibility = await _ca.Eligibility().CheckAsync(address, CancellationToken.None);
        Assert.Equal(EligibilityStatus.NotEligible, eligibility.Status);
    }

    [Fact]
    public async Task DirectoryDown_EnrolsNobody_AndTheAuditAndTheChoiceSayWhy()
    {
        await _slapd.StopAsync();
        var authority = _ca.Authority();

        var frank = await _ca.Enrolling(authority, _ca.Eligibility()).FindSignerAsync("frank@example.test", CancellationToken.None);

        Assert.False(frank.Found);
        Assert.NotNull(frank.TemporaryFailure); // not cached: the next mail asks the directory again
        Assert.Contains("not enrolled: eligibility unknown: group cn=smime-users,dc=example,dc=test in ldap:corp could not be read", frank.Reason);
        Assert.Empty(authority.IssuedTo("frank@example.test"));
        var skipped = Assert.Single(_ca.Audit.Events);
        Assert.Equal("enrolment-skipped", skipped.Event);
        Assert.Equal("frank@example.test", skipped.Sender);
        Assert.Contains("LDAP error", skipped.Reason);
    }

    [Fact]
    public async Task DirectoryDown_AMemberWhoAlreadyHoldsACertificate_KeepsSigningWithIt_OnTheMembershipLastRead()
    {
        var authority = _ca.Authority();
        var directory = _ca.Enrolling(authority, _ca.Eligibility());
        var first = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);
        await _slapd.StopAsync();
        _ca.Time.Advance(TimeSpan.FromHours(3)); // past CacheDuration: the group is asked again, and cannot be read

        var later = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);

        Assert.True(later.Found, later.Reason);
        Assert.Equal(first.Selected!.Certificate.Thumbprint, later.Selected!.Certificate.Thumbprint);
        Assert.Single(authority.IssuedTo("frank@example.test"));
    }

    [Fact]
    public async Task DirectoryDown_AMemberRemovedBeforeTheOutage_DoesNotSignWithTheCertificateTheyStillHold()
    {
        var authority = _ca.Authority();
        var directory = _ca.Enrolling(authority, _ca.Eligibility());
        Assert.True((await directory.FindSignerAsync("frank@example.test", CancellationToken.None)).Found);
        await _slapd.AddAsync($"dn: {CompanyDirectory.Group}\nchangetype: modify\ndelete: member\nmember: uid=frank,{SlapdInstance.People}\n");
        _ca.Time.Advance(TimeSpan.FromHours(1));
        Assert.False((await directory.FindSignerAsync("frank@example.test", CancellationToken.None)).Found); // read: no longer a member
        await _slapd.StopAsync();
        _ca.Time.Advance(TimeSpan.FromHours(1));

        var duringOutage = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);

        Assert.False(duringOutage.Found, duringOutage.Reason);
    }

    [Fact]
    public async Task ARestartDuringAnOutage_UsesTheMemberListLastRead_KeptInTheCaFolder_UpToItsMaxAge()
    {
        _ca.Settings["Gateway:Ca:EligibleGroup:StaleMembershipMaxAge"] = "02:00:00";
        Assert.Equal(EligibilityStatus.Eligible, (await _ca.Eligibility().CheckAsync("frank@example.test", CancellationToken.None)).Status);
        await _slapd.StopAsync();

        // A new instance, as after a restart: nothing in memory, the directory down.
        _ca.Time.Advance(TimeSpan.FromMinutes(30));
        var member = await _ca.Eligibility().CheckAsync("frank@example.test", CancellationToken.None);
        var nonMember = await _ca.Eligibility().CheckAsync("grace@example.test", CancellationToken.None);
        _ca.Time.Advance(TimeSpan.FromHours(2));
        var tooOld = await _ca.Eligibility().CheckAsync("frank@example.test", CancellationToken.None);

        Assert.Equal(EligibilityStatus.Eligible, member.Status);
        Assert.Contains("as read at", member.Reason);
        Assert.Equal(EligibilityStatus.NotEligible, nonMember.Status);
        Assert.Equal(EligibilityStatus.Unknown, tooOld.Status);
    }

    [Fact]
    public async Task DirectoryDownLongerThanStaleMembershipMaxAge_EligibilityIsUnknown_AndNobodySignsWithTheCasCertificates()
    {
        _ca.Settings["Gateway:Ca:EligibleGroup:StaleMembershipMaxAge"] = "02:00:00";
        var authority = _ca.Authority();
        var eligibility = _ca.Eligibility();
        var directory = _ca.Enrolling(authority, eligibility);
        Assert.True((await directory.FindSignerAsync("frank@example.test", CancellationToken.None)).Found);
        await _slapd.StopAsync();

        _ca.Time.Advance(TimeSpan.FromMinutes(90));
        Assert.Equal(EligibilityStatus.Eligible, (await eligibility.CheckAsync("frank@example.test", CancellationToken.None)).Status);
        _ca.Time.Advance(TimeSpan.FromMinutes(60));
        var frank = await directory.FindSignerAsync("frank@example.test", CancellationToken.None);

        Assert.False(frank.Found, frank.Reason);
        Assert.NotNull(frank.TemporaryFailure);
        Assert.Contains("eligibility unknown", frank.Reason);
        Assert.Single(authority.IssuedTo("frank@example.test"));
    }

    [Fact]
    public async Task Membership_IsReadOncePerCacheDuration_ThenAskedAgain()
    {
        _ca.Settings["Gateway:Ca:EligibleGroup:CacheDuration"] = "00:10:00";
        _ca.Settings["Gateway:Ca:EligibleGroup:StaleMembershipMaxAge"] = "00:00:00"; // no old list during the outage: see the tests above
        var eligibility = _ca.Eligibility();
        Assert.Equal(EligibilityStatus.Eligible, (await eligibility.CheckAsync("frank@example.test", CancellationToken.None)).Status);
        await _slapd.StopAsync();

        _ca.Time.Advance(TimeSpan.FromMinutes(9));
        Assert.Equal(EligibilityStatus.Eligible, (await eligibility.CheckAsync("heidi@example.test", CancellationToken.None)).Status);
        Assert.Equal(EligibilityStatus.NotEligible, (await eligibility.CheckAsync("grace@example.test", CancellationToken.None)).Status);

        _ca.Time.Advance(TimeSpan.FromMinutes(2));
        Assert.Equal(EligibilityStatus.Unknown, (await eligibility.CheckAsync("heidi@example.test", CancellationToken.None)).Status);
        await _slapd.StartAgainAsync();
        Assert.Equal(EligibilityStatus.Eligible, (await eligibility.CheckAsync("heidi@example.test", CancellationToken.None)).Status);
    }

    [Fact]
    public async Task PatternsAreAskedFirst_SoTheirSendersNeverWaitForTheDirectory()
    {
        _ca.Settings["Gateway:Ca:EligibleSenders:0"] = "grace@example.test";
        await _slapd.StopAsync();

        var grace = await _ca.Eligibility().CheckAsync("grace@example.test", CancellationToken.None);

        Assert.Equal(EligibilityStatus.Eligible, grace.Status);
        Assert.Contains("EligibleSenders 'grace@example.test'", grace.Reason);
    }

    [Fact]
    public async Task AGroupThatDoesNotExist_IsUnknown_NotAnEmptyGroup()
    {
        _ca.Settings["Gateway:Ca:EligibleGroup:GroupDn"] = "cn=smime-userz," + SlapdInstance.Suffix;

        var frank = await _ca.Eligibility().CheckAsync("frank@example.test", CancellationToken.None);

        Assert.Equal(EligibilityStatus.Unknown, frank.Status);
        Assert.Contains("does not exist", frank.Reason);
    }
}
