using Gateway.Testing.Peers;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Ca;

/// <summary>A fresh internal sender's first mail leaves signed with a certificate issued for them seconds earlier.</summary>
public sealed class AutomaticEnrolmentEndToEndTests : IAsyncLifetime
{
    private readonly GatewayWorld _world = new();
    private CapturingSmtpSink _sink = null!;
    private RunningGateway _gateway = null!;

    private string CaFolder => Path.Combine(_world.Root, "ca");

    public async Task InitializeAsync()
    {
        _sink = await CapturingSmtpSink.StartAsync();
        _world.RelayTo(_sink.Port);
        _world.Settings["Gateway:Ca:Enabled"] = "true";
        _world.Settings["Gateway:Ca:Path"] = CaFolder;
        _world.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";
        _world.Settings["Gateway:Ca:Password"] = "ca-password";
        _gateway = await RunningGateway.StartAsync(_world);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _sink.DisposeAsync();
        _world.Dispose();
    }

    [Fact]
    public async Task FirstMailOfANewSender_IsSignedWithAFreshCertificate_ThatOpenSslAndGpgsmVerify()
    {
        await _gateway.SendAsync(RunningGateway.NewMessage("frank@example.test", "dave@elsewhere.test", "my first mail", "Hello from Frank.\r\n"),
            "frank@example.test", "dave@elsewhere.test");

        var issued = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "certificate-issued", "frank@example.test"));
        var captured = Assert.Single(await _sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60)));
        var delivered = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        Assert.Equal(issued.GetProperty("signerCertificate").GetString(), delivered.GetProperty("signerCertificate").GetString());

        var eml = Path.Combine(_world.Root, "frank.eml");
        captured.WriteTo(eml);
        var caCertificate = Path.Combine(CaFolder, "ca.crt");
        var verified = await OpenSslCms.VerifyAsync(eml, caCertificate);
        Assert.True(verified.Success, verified.Stderr);
        Assert.Contains("Hello from Frank.", verified.ContentText);

        await using var gpgsm = await Gpgsm.CreateAsync(caCertificate);
        var gpg = await gpgsm.VerifyDetachedAsync(eml);
        Assert.True(gpg.GoodSignature && gpg.Trusted, gpg.Status + gpg.Stderr);
    }

    [Fact]
    public async Task SenderWithAnIdentityInTheLocalStore_KeepsIt_AndNothingIsIssued()
    {
        await _gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "alice"), "alice@example.test", "dave@elsewhere.test");
        var delivered = await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        Assert.Equal(_world.Alice.Certificate.Thumbprint, delivered.GetProperty("signerCertificate").GetString());
        Assert.DoesNotContain(_gateway.AuditEvents(), e => RunningGateway.Is(e, "certificate-issued"));
    }
}
