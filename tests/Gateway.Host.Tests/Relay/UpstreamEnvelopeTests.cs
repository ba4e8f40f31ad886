using System.Text;
using Gateway.Configuration;
using Gateway.Mail;
using Gateway.Relay;
using Gateway.Spool;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

using static Gateway.Tests.Fixtures.ScriptedRelay;

namespace Gateway.Tests.Relay;

/// <summary>
/// MAIL and RCPT as the upstream gets them: SIZE against its limit, addresses with and without
/// SMTPUTF8, and the DSN parameters passed on.
/// </summary>
public sealed class UpstreamEnvelopeTests
{
    [Fact]
    public async Task ACopyLargerThanTheUpstreamTakes_FailsPermanently_WithoutAWordSent()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "SIZE 20");
            Assert.Equal("QUIT", await c.LineAsync());
            await c.SayAsync("221 bye");
        });
        var result = Assert.Single(await RelayAsync(upstream, ["frank@elsewhere.test"]));

        Assert.Equal(RelayOutcome.Permanent, result.Outcome);
        Assert.StartsWith("552 5.3.4", result.Reply);
        Assert.DoesNotContain("MAIL", upstream.Received);
    }

    [Fact]
    public async Task WithoutSmtpUtf8_AUnicodeDomainGoesAsXn_AndANonAsciiLocalPartFailsPermanently()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING");
            Assert.Equal("MAIL FROM:<dave@other.test>", await c.LineAsync());
            Assert.Equal("RCPT TO:<dora@xn--bcher-kva.example>", await c.LineAsync());
            Assert.Equal("DATA", await c.LineAsync());
            await AcceptAsync(c);
            await QuitAsync(c);
        });
        var results = await RelayAsync(upstream, ["dora@bücher.example", "jörg@example.test"]);

        Assert.Equal(RelayOutcome.Accepted, results.Single(r => r.Recipient == "dora@bücher.example").Outcome);
        var refused = results.Single(r => r.Recipient == "jörg@example.test");
        Assert.Equal(RelayOutcome.Permanent, refused.Outcome);
        Assert.StartsWith("550 5.6.7", refused.Reply);
    }

    [Fact]
    public async Task WithSmtpUtf8_AddressesGoAsGiven_AndMailSaysSmtpUtf8()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", "SMTPUTF8", "8BITMIME");
            Assert.Equal("MAIL FROM:<dave@other.test> SMTPUTF8", await c.LineAsync());
            Assert.Equal("RCPT TO:<jörg@bücher.example>", await c.LineAsync());
            Assert.Equal("DATA", await c.LineAsync());
            await AcceptAsync(c);
            await QuitAsync(c);
        });
        var result = Assert.Single(await RelayAsync(upstream, ["jörg@bücher.example"]));

        Assert.Equal(RelayOutcome.Accepted, result.Outcome);
    }

    [Fact]
    public async Task TheClientsOrcpt_IsPassedOnAsItCame_AndOursIsAddedOnlyBesideNotify()
    {
        await using var upstream = new ScriptedUpstream(async c =>
        {
            await GreetAsync(c, "PIPELINING", "DSN");
            Assert.Equal("MAIL FROM:<dave@other.test> RET=HDRS ENVID=id+2B1", await c.LineAsync());
            Assert.Equal("RCPT TO:<frank@elsewhere.test> NOTIFY=SUCCESS,FAILURE ORCPT=rfc822;sales+2Bde@example.test", await c.LineAsync());
            Assert.Equal("RCPT TO:<grace@elsewhere.test> NOTIFY=NEVER ORCPT=rfc822;grace@elsewhere.test", await c.LineAsync());
            Assert.Equal("RCPT TO:<heidi@elsewhere.test>", await c.LineAsync());
            Assert.Equal("DATA", await c.LineAsync());
            await c.SayAsync("250 ok\n250 ok\n250 ok\n250 ok\n354 go");
            await c.DataAsync();
            await c.SayAsync("250 queued");
            await QuitAsync(c);
        });
        var dsn = new DsnParameters("id+2B1", "HDRS", [new RecipientDsn(DsnNotify.Success | DsnNotify.Failure, "rfc822;sales+2Bde@example.test"), new RecipientDsn(DsnNotify.Never, null), null]);

        var results = await RelayAsync(upstream, ["frank@elsewhere.test", "grace@elsewhere.test", "heidi@elsewhere.test"], Message, dsn);

        Assert.All(results, r => Assert.True(r.DsnPassedOn));
    }

    [Theory]
    [InlineData(false, " ORCPT=utf-8;j\\x{F6}rg@b\\x{FC}cher.example")]
    [InlineData(true, " ORCPT=utf-8;jörg@bücher.example")]
    public void AUtf8Orcpt_GoesInItsAsciiForm_OutsideAnSmtpUtf8Transaction(bool smtpUtf8, string expected)
    {
        var command = EnvelopeCommands.Rcpt("frank@elsewhere.test", "frank@elsewhere.test", new UpstreamCapabilities { Dsn = true },
            new RecipientDsn(null, "utf-8;jörg@bücher.example"), smtpUtf8);

        Assert.Equal($"RCPT TO:<frank@elsewhere.test>{expected}\r\n", command);
    }
}
