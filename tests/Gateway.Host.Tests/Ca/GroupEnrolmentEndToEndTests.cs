using Gateway.Testing.Peers;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Ca;

/// <summary>
/// The running gateway with Ca:EligibleGroup on a real slapd and a policy by which internal
/// senders must sign (and nothing is encrypted, so no recipient lookup asks the same directory):
/// a member's first mail leaves signed with a fresh certificate; while the directory is down a
/// member without a certificate is not enrolled and, signing being required, the mail is refused
/// as for any sender without an identity: never sent unsigned.
/// </summary>
public sealed class GroupEnrolmentEndToEndTests : IAsyncLifetime
{
    private const string Policy = """
        {
          "default": { "sign": "ifPossible", "encrypt": "never", "missingCertificate": "refuse" },
          "rules": [ { "name": "internal-must-sign", "senders": ["example.test"], "sign": "always", "encrypt": "never", "missingCertificate": "refuse" } ]
        }
        """;

    private readonly GatewayWorld _world = new(Policy);
    private SlapdInstance _slapd = null!;
    private CapturingSmtpSink _sink = null!;

    public async Task InitializeAsync()
    {
        _slapd = await CompanyDirectory.StartAsync(_world.Settings);
        _sink = await CapturingSmtpSink.StartAsync();
        _world.RelayTo(_sink.Port);
        _world.Settings["Gateway:Ca:Enabled"] = "true";
        _world.Settings["Gateway:Ca:Path"] = Path.Combine(_world.Root, "ca");
        _world.Settings["Gateway:Ca:Password"] = "ca-password";
    }

    public async Task DisposeAsync()
    {
        await _sink.DisposeAsync();
        await _slapd.DisposeAsync();
        _world.Dispose();
    }

    [Fact]
    public async Task GroupMembersFirstMail_IsSignedWithAFreshCertificate_ThatOpenSslVerifies()
    {
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendAsync(RunningGateway.NewMessage("heidi@example.test", "dave@elsewhere.test", "first", "Hello from Heidi.\r\n"), "heidi@example.test", "dave@elsewhere.test");

        var issued = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificate-issued", "heidi@example.test"));
        Assert.Contains("member of group", issued.GetProperty("action").GetString());
        Assert.StartsWith("builtIn (CN=Gateway Internal S/MIME CA)", issued.GetProperty("issuer").GetString());
        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        Assert.Equal(issued.GetProperty("signerCertificate").GetString(), delivered.GetProperty("signerCertificate").GetString());
        var eml = Path.Combine(_world.Root, "heidi.eml");
        Assert.Single(await _sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(30))).WriteTo(eml);
        var verified = await OpenSslCms.VerifyAsync(eml, Path.Combine(_world.Root, "ca", "ca.crt"));
        Assert.True(verified.Success, verified.Stderr);
    }

    [Fact]
    public async Task DirectoryDown_AMemberIsNotEnrolled_AndMailThatMustBeSignedIsRefused_NeverSentUnsigned()
    {
        await _slapd.StopAsync();
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendAsync(RunningGateway.NewMessage("heidi@example.test", "dave@elsewhere.test", "first"), "heidi@example.test", "dave@elsewhere.test");

        var skipped = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "enrolment-skipped"));
        Assert.Equal("heidi@example.test", skipped.GetProperty("sender").GetString());
        Assert.Contains("could not be read", skipped.GetProperty("reason").GetString());
        var refused = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "refused", "dave@elsewhere.test"));
        Assert.Contains("not enrolled: eligibility unknown", refused.GetProperty("reason").GetString());
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "certificate-issued") || RunningGateway.Is(e, "delivered"));
        Assert.DoesNotContain(_sink.Messages, m => m.RcptTo.Contains("dave@elsewhere.test"));
    }
}
