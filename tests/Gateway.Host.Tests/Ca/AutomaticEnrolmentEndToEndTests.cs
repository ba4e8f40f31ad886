using Gateway.Testing.Peers;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Ca;

/// <summary>A fresh internal sender's first mail leaves signed with a certificate issued for them seconds earlier.</summary>
public sealed class AutomaticEnrolmentEndToEndTests : GatewayRelayingToSink
{
    private string CaFolder => Path.Combine(World.Root, "ca");

    protected override void Configure(GatewayWorld world)
    {
        world.Settings["Gateway:Ca:Enabled"] = "true";
        world.Settings["Gateway:Ca:Path"] = CaFolder;
        world.Settings["Gateway:Ca:EligibleSenders:0"] = "example.test";
        world.Settings["Gateway:Ca:Password"] = "ca-password";
    }

    [Fact]
    public async Task FirstMailOfANewSender_IsSignedWithAFreshCertificate_ThatOpenSslAndGpgsmVerify()
    {
        await Running.SendAsync(RunningGateway.NewMessage("frank@example.test", "dave@elsewhere.test", "my first mail", "Hello from Frank.\r\n"),
            "frank@example.test", "dave@elsewhere.test");

        var issued = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "certificate-issued", "frank@example.test"));
        var captured = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(60)));
        var delivered = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        Assert.Equal(issued.GetProperty("signerCertificate").GetString(), delivered.GetProperty("signerCertificate").GetString());

        var eml = Path.Combine(World.Root, "frank.eml");
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
        await Running.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "alice"), "alice@example.test", "dave@elsewhere.test");
        var delivered = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"));
        Assert.Equal(World.Alice.Certificate.Thumbprint, delivered.GetProperty("signerCertificate").GetString());
        Assert.DoesNotContain(Running.AuditEvents(), e => RunningGateway.Is(e, "certificate-issued"));
    }
}
