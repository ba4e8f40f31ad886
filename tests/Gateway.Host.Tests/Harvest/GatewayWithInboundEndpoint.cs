using System.Text;
using System.Text.RegularExpressions;
using Gateway.Harvest;
using Gateway.Tests.Fixtures;
using Gateway.Tests.Smtp;
using Microsoft.Extensions.DependencyInjection;

namespace Gateway.Tests.Harvest;

/// <summary>A gateway whose inbound endpoint passes mail on to the test sink, and a client for that endpoint.</summary>
public abstract class GatewayWithInboundEndpoint : GatewayRelayingToSink
{
    protected override void Configure(GatewayWorld world)
    {
        world.Settings["Gateway:Smtp:ServerName"] = "gw.example.test";
        world.Settings["Gateway:Harvest:Enabled"] = "true";
        world.Settings["Gateway:Harvest:Port"] = "0";
        world.Settings["Gateway:Harvest:UpstreamHost"] = "127.0.0.1";
        world.Settings["Gateway:Harvest:UpstreamPort"] = world.Settings["Gateway:Relay:Port"];
        world.Settings["Gateway:Smtp:MaxMessageSize"] = "100000";
    }

    protected async Task<int> InboundPortAsync() =>
        (await Running.Services.GetRequiredService<HarvestListenerService>().Ready.WaitAsync(TimeSpan.FromSeconds(20))).Port;

    /// <summary>
    /// What the internal MTA got, without the Received line the endpoint puts on top (checked to be
    /// there) and, for a message it could not decrypt, the X-Gateway-Not-Decrypted line above it
    /// with <paramref name="notDecrypted"/> as its reason (checked to be there only then).
    /// </summary>
    protected static byte[] BelowOurReceivedLine(byte[] passed, string? notDecrypted = null)
    {
        var marker = notDecrypted is null ? "" : Regex.Escape($"X-Gateway-Not-Decrypted: by gw.example.test; reason={notDecrypted}\r\n");
        var ours = Regex.Match(Encoding.ASCII.GetString(passed), "^" + marker + @"Received: from \[[^\]]+\]\r\n\tby gw\.example\.test \(Gateway\) with ESMTP;\r\n\t[^\r]+\r\n");
        Assert.True(ours.Success, "the message passed on does not start with our lines: " + Encoding.ASCII.GetString(passed[..Math.Min(200, passed.Length)]));
        return passed[ours.Length..];
    }

    /// <summary>One transaction to the inbound endpoint, dot-stuffed; returns the reply to the data.</summary>
    protected static async Task<string> SendAsync(int port, string from, IEnumerable<string> to, byte[] message)
    {
        await using var client = await RawSmtpClient.ConnectAsync(port);
        await client.ReadReplyAsync();
        await client.CommandAsync("EHLO mx.partner.test");
        await client.CommandAsync($"MAIL FROM:<{from}>");
        foreach (var recipient in to) Assert.StartsWith("250", await client.CommandAsync($"RCPT TO:<{recipient}>"));
        await client.CommandAsync("DATA");
        var text = Encoding.ASCII.GetString(message);
        await client.SendAsync((text.StartsWith('.') ? "." : "") + text.Replace("\r\n.", "\r\n..", StringComparison.Ordinal) + ".\r\n");
        return await client.ReadReplyAsync(TimeSpan.FromSeconds(30)) ?? "(closed)";
    }
}
