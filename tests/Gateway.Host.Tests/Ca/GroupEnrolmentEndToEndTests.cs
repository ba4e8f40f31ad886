using Gateway.Testing.Peers;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Ca;

/// <summary>
/// The running gateway with Ca:EligibleGroup on a real slapd and a policy by which internal
/// senders must sign (and nothing is encrypted, so no recipient lookup asks the same directory):
/// a member's first mail leaves signed with a fresh certificate; while the directory is down a
/// member without a certificate is not enrolled and, signing being required, the mail waits until
/// the directory answers: never sent unsigned.
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
    public async Task DirectoryDown_AMemberIsNotEnrolled_MailThatMustBeSignedWaits_AndLeavesSignedOnceTheDirectoryIsBack()
    {
        await _slapd.StopAsync();
        await using var gateway = await RunningGateway.StartAsync(_world);

        await gateway.SendAsync(RunningGateway.NewMessage("heidi@example.test", "dave@elsewhere.test", "first"), "heidi@example.test", "dave@elsewhere.test");

        var skipped = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "enrolment-skipped"));
        Assert.Equal("heidi@example.test", skipped.GetProperty("sender").GetString());
        Assert.Contains("could not be read", skipped.GetProperty("reason").GetString());
        // A directory that cannot be asked is not "no certificate": the mail waits (as a recipient
        // whose certificate source is down does), for at most Certificates:LookupFailureGrace.
        var deferred = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred", "dave@elsewhere.test"));
        Assert.StartsWith("451 4.4.3", deferred.GetProperty("reply").GetString());
        Assert.Contains("signing identity lookup deferred", deferred.GetProperty("reason").GetString());
        Assert.DoesNotContain(gateway.AuditEvents(), e => RunningGateway.Is(e, "certificate-issued") || RunningGateway.Is(e, "delivered") || RunningGateway.Is(e, "refused"));
        Assert.DoesNotContain(_sink.Messages, m => m.RcptTo.Contains("dave@elsewhere.test"));

        await _slapd.StartAgainAsync();
        var delivered = await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"), TimeSpan.FromSeconds(60));
        Assert.Equal("signed", delivered.GetProperty("action").GetString());
        Assert.Single(gateway.AuditEvents(), e => RunningGateway.Is(e, "certificate-issued", "heidi@example.test"));
    }
}
