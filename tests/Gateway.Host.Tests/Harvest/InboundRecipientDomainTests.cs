using System.Text;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Smtp;

namespace Gateway.Tests.Harvest;

/// <summary>
/// The inbound endpoint takes mail for the company's domains only (Harvest:Domains): a recipient
/// elsewhere is refused at RCPT, audited, and never passed to the internal MTA, so the endpoint
/// cannot be used to relay even when the MTA in front of it passes such mail on.
/// </summary>
public sealed class InboundRecipientDomainTests : GatewayWithInboundEndpoint
{
    protected override void Configure(GatewayWorld world)
    {
        base.Configure(world);
        world.Settings["Gateway:Harvest:Domains:0"] = "example.test";
        world.Settings["Gateway:Harvest:Domains:1"] = "*.corp.example.test";
        world.Settings["Gateway:Harvest:Domains:2"] = "bücher.example";
    }

    [Fact]
    public async Task RecipientOutsideOurDomains_IsRefusedAtRcpt_Audited_AndNeverPassedOn()
    {
        await using var client = await RawSmtpClient.ConnectAsync(await InboundPortAsync());
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO mx.partner.test");
        Assert.StartsWith("250", await client.CommandAsync("MAIL FROM:<frank@partner.test>"));
        Assert.Equal("550 5.7.1 Relay access denied: elsewhere.test is not one of Gateway:Harvest:Domains", await client.CommandAsync("RCPT TO:<victim@elsewhere.test>"));
        Assert.StartsWith("550 5.7.1", await client.CommandAsync("RCPT TO:<x@notexample.test>"));
        Assert.StartsWith("550 5.7.1", await client.CommandAsync("RCPT TO:<x@corp.example.test>")); // *.corp.example.test: its subdomains only
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<alice@EXAMPLE.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<bob@eu.corp.example.test>"));
        Assert.StartsWith("250", await client.CommandAsync("RCPT TO:<carl@xn--bcher-kva.example>"));
        Assert.StartsWith("354", await client.CommandAsync("DATA"));
        Assert.StartsWith("250", await client.CommandAsync("Subject: hello\r\n\r\nbody\r\n."));

        var passed = Assert.Single(await Sink.WaitForMessagesAsync(1, TimeSpan.FromSeconds(20)));
        Assert.Equal(["alice@EXAMPLE.test", "bob@eu.corp.example.test", "carl@xn--bcher-kva.example"], passed.RcptTo);
        var refused = await Running.WaitForAuditAsync(e => RunningGateway.Is(e, "relay-refused", "victim@elsewhere.test"));
        Assert.Equal("frank@partner.test", refused.GetProperty("sender").GetString());
        Assert.Equal("inbound endpoint: Relay access denied: elsewhere.test is not one of Gateway:Harvest:Domains", refused.GetProperty("reason").GetString());
    }
}
