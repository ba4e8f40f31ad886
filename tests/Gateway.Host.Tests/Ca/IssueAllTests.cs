using Gateway.Ca;
using Gateway.Cli;
using Gateway.Testing.Peers;

namespace Gateway.Tests.Ca;

/// <summary>
/// <c>gateway ca issue --all</c>: every listable eligible sender (single addresses of
/// EligibleSenders, members of the LDAP group on a real slapd) gets a certificate ahead of time;
/// domains are named as skipped; a second run issues nothing; due ones are renewed; a directory
/// that cannot be read makes it fail.
/// </summary>
public sealed class IssueAllTests : IAsyncLifetime
{
    private readonly CaFixture _ca = new();
    private SlapdInstance _slapd = null!;

    public async Task InitializeAsync()
    {
        _slapd = await CompanyDirectory.StartAsync(_ca.Settings);
        _ca.Settings["Gateway:Ca:EligibleSenders:0"] = "ivan@example.test";
        _ca.Settings["Gateway:Ca:EligibleSenders:1"] = "example.org";
        _ca.Settings["Gateway:Ca:EligibleSenders:2"] = "*.example.net";
    }

    public async Task DisposeAsync()
    {
        await _slapd.DisposeAsync();
        _ca.Dispose();
    }

    private int IssuedFiles() => Directory.EnumerateFiles(Path.Combine(_ca.CaPath, "identities"), "*.p12", SearchOption.AllDirectories).Count();

    [Fact]
    public async Task IssuesForAddressesAndGroupMembers_SkipsDomainsByName_AndASecondRunIssuesNothing()
    {
        var first = await _ca.CliAsync("ca", "issue", "--all");

        Assert.True(first.ExitCode == 0, first.ToString());
        var lines = first.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        Assert.Contains(lines, l => l.StartsWith("skipped pattern 'example.org': a domain cannot be listed", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("skipped pattern '*.example.net'", StringComparison.Ordinal));
        foreach (var address in new[] { "frank@example.test", "heidi@example.test", "ivan@example.test" })
            Assert.Contains(lines, l => l.StartsWith($"{address}: issued, serial ", StringComparison.Ordinal) && l.Contains("valid until", StringComparison.Ordinal));
        Assert.DoesNotContain("grace@example.test", first.Output);
        Assert.Equal(3, IssuedFiles());

        var second = await _ca.CliAsync("ca", "issue", "--all");

        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Equal(3, second.Output.Split('\n').Count(l => l.Contains(": already valid until ", StringComparison.Ordinal)));
        Assert.DoesNotContain(": issued", second.Output);
        Assert.Equal(3, IssuedFiles());
    }

    [Fact]
    public async Task ACertificateDueForRenewal_IsRenewed_TheOthersAreKept()
    {
        var authority = _ca.Authority();
        var enrolment = _ca.Enrolment(authority);
        var eligibility = _ca.Eligibility();
        Assert.Equal(0, await CaIssueCommand.IssueAllAsync(eligibility, enrolment, new StringWriter(), CancellationToken.None));
        _ca.Time.Advance(TimeSpan.FromDays(340)); // 25 days before expiry, inside RenewBeforeDays (30)
        await authority.IssueAsync("ivan@example.test", "re-keyed by hand", CancellationToken.None);

        var output = new StringWriter();
        var exit = await CaIssueCommand.IssueAllAsync(eligibility, enrolment, output, CancellationToken.None);

        Assert.Equal(0, exit);
        Assert.Contains("frank@example.test: renewed, serial ", output.ToString());
        Assert.Contains("heidi@example.test: renewed, serial ", output.ToString());
        Assert.Contains("ivan@example.test: already valid until ", output.ToString());
        Assert.Equal(2, authority.IssuedTo("frank@example.test").Count);
        Assert.Contains(_ca.Audit.Events, e => e.Event == "certificate-issued" && e.Recipient == "frank@example.test" && e.Action!.StartsWith("renewal", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DirectoryDown_TheListedAddressesAreStillIssued_ButTheRunFails_NamingTheGroup()
    {
        await _slapd.StopAsync();

        var run = await _ca.CliAsync("ca", "issue", "--all");

        Assert.Equal(1, run.ExitCode);
        Assert.Contains($"failed: group {CompanyDirectory.Group} in ldap:corp could not be read", run.Output);
        Assert.Contains("ivan@example.test: issued", run.Output);
        Assert.Equal(1, IssuedFiles());
    }

    [Fact]
    public async Task Help_SaysThatDomainPatternsCannotBeListed()
    {
        var help = await _ca.CliAsync("ca", "issue", "--help");

        Assert.Contains("--all", help.Output);
        Assert.Contains("domain patterns cannot be listed", help.Output);
    }

    [Fact]
    public async Task AnExpiredCa_FailsEachAddressByName_InsteadOfCrashing()
    {
        var authority = _ca.Authority();
        _ca.Time.SetUtcNow(new DateTimeOffset(authority.Certificate.NotAfter.ToUniversalTime(), TimeSpan.Zero).AddDays(1));
        var output = new StringWriter();

        var exit = await CaIssueCommand.IssueAllAsync(_ca.Eligibility(), _ca.Enrolment(authority), output, CancellationToken.None);

        Assert.Equal(1, exit);
        foreach (var address in new[] { "frank@example.test", "heidi@example.test", "ivan@example.test" })
            Assert.Contains(output.ToString().Split('\n'), l => l.StartsWith($"{address}: failed: ", StringComparison.Ordinal) && l.Contains("expired", StringComparison.Ordinal));
    }
}
