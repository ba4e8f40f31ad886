using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Configuration;

/// <summary>Bad certificate-automation settings stop <c>gateway run</c> with exit 1 and the key named.</summary>
public sealed class CaSettingsValidationTests : IDisposable
{
    private readonly GatewayWorld _world = new();

    public CaSettingsValidationTests()
    {
        _world.Settings["Gateway:Ca:Enabled"] = "true";
        _world.Settings["Gateway:Ca:Path"] = Path.Combine(_world.Root, "ca");
        _world.Settings["Gateway:Ca:Password"] = "ca-password";
        _world.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";
    }

    public void Dispose() => _world.Dispose();

    private Task<(int ExitCode, string Error)> RunWithAsync(Dictionary<string, string?> changes)
    {
        foreach (var (key, value) in changes) _world.Settings[key] = value;
        return RefusedStart.RunAsync(_world.Root, _world.Settings);
    }

    [Fact]
    public async Task AnUnknownIssuer_ExitsWith1_NamingTheKeyAndTheKnownIssuers()
    {
        var (exit, error) = await RunWithAsync(new() { ["Gateway:Ca:Issuer"] = "acme" });

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Ca:Issuer: 'acme' is not an issuer (known: builtIn;", error);
    }

    [Fact]
    public async Task BadEligibleGroupSettings_ExitWith1_NamingEachKey()
    {
        var (exit, error) = await RunWithAsync(new()
        {
            ["Gateway:Ca:EligibleGroup:Directory"] = "hr",
            ["Gateway:Ca:EligibleGroup:GroupDn"] = "",
            ["Gateway:Ca:EligibleGroup:MemberAttribute"] = "member)(x=*",
            ["Gateway:Ca:EligibleGroup:CacheDuration"] = "00:00:00",
            ["Gateway:Ca:EligibleGroup:StaleMembershipMaxAge"] = "-01:00:00",
            ["Gateway:Ca:EligibleGroup:Filter"] = "(memberOf=x)",
        });

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Ca:EligibleGroup:Directory: 'hr' is not the Name of a directory in Gateway:Certificates:Ldap (known: none)", error);
        Assert.Contains("Gateway:Ca:EligibleGroup:GroupDn must name the group", error);
        Assert.Contains("Gateway:Ca:EligibleGroup:MemberAttribute: 'member)(x=*' is not an attribute name", error);
        Assert.Contains("Gateway:Ca:EligibleGroup:CacheDuration must be a positive duration", error);
        Assert.Contains("Gateway:Ca:EligibleGroup:StaleMembershipMaxAge must be zero or a positive duration", error);
        Assert.Contains("Gateway:Ca:EligibleGroup:Filter: unknown setting", error);
    }

    /// <summary>Only http:// and the final / were checked: these started, and the CRL endpoint then failed to listen (event 7009) while mail ran on.</summary>
    [Theory]
    [InlineData("http://:8080/pki/", "must name a host")]
    [InlineData("http://+:99999/pki/", "must have a port from 1 to 65535")]
    [InlineData("http://::1:8080/pki/", "must write an IPv6 address in brackets")]
    public async Task ACrlPrefixTheServerCannotListenAt_ExitsWith1_NamingTheKeyAndAnExample(string prefix, string expected)
    {
        var (exit, error) = await RunWithAsync(new() { ["Gateway:Ca:CrlHttpPrefix"] = prefix });

        Assert.Equal(1, exit);
        Assert.Contains($"Gateway:Ca:CrlHttpPrefix: '{prefix}' {expected}", error);
        Assert.Contains("(e.g. http://+:8080/pki/)", error);
    }

    [Fact]
    public async Task NeitherPatternsNorAGroup_ExitsWith1_SayingWhoWouldGetACertificate()
    {
        var (exit, error) = await RunWithAsync(new() { ["Gateway:Ca:EligibleSenders:0"] = null });

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Ca:EligibleSenders or Gateway:Ca:EligibleGroup must say who gets a certificate", error);
    }

    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\nthe-password-on-line-two\n")]
    public async Task APasswordFileWhoseFirstLineIsEmpty_ExitsWith1_NamingTheKey(string content)
    {
        var file = Path.Combine(_world.Root, "ca.pw");
        await File.WriteAllTextAsync(file, content);
        Gateway.Testing.OwnerOnly.Apply(file);

        var (exit, error) = await RunWithAsync(new() { ["Gateway:Ca:Password"] = null, ["Gateway:Ca:PasswordFile"] = file });

        Assert.Equal(1, exit);
        Assert.Contains($"Gateway:Ca:PasswordFile: the first line of '{file}' is empty", error);
        Assert.False(File.Exists(Path.Combine(_world.Root, "ca", "ca.p12")));
    }

    [Theory]
    [InlineData("")]
    [InlineData("   ")]
    public async Task AnEmptyPassword_ExitsWith1_NamingTheKey(string password)
    {
        var (exit, error) = await RunWithAsync(new() { ["Gateway:Ca:Password"] = password });

        Assert.Equal(1, exit);
        Assert.Contains("Gateway:Ca:Password", error);
        Assert.Contains("empty", error);
    }
}
