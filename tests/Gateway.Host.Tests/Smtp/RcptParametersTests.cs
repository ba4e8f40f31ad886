using Gateway.Mail;
using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

/// <summary>The RCPT parameters a client may give once DSN is offered (RFC 3461 §4.1, §4.2), and the refusals of the rest.</summary>
public sealed class RcptParametersTests
{
    [Theory]
    [InlineData("RCPT TO:<bob@example.test>\r\n", null, null)]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY=NEVER\r\n", DsnNotify.Never, null)]
    [InlineData("rcpt to:<bob@example.test> notify=success,delay\r\n", DsnNotify.Success | DsnNotify.Delay, null)]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY=FAILURE ORCPT=rfc822;bob@example.test", DsnNotify.Failure, "rfc822;bob@example.test")]
    [InlineData("RCPT TO:<bob@example.test>  ORCPT=rfc822;b+2Bo+3Db@example.test   NOTIFY=SUCCESS,FAILURE,DELAY\r\n",
        DsnNotify.Success | DsnNotify.Failure | DsnNotify.Delay, "rfc822;b+2Bo+3Db@example.test")]
    [InlineData("RCPT TO:<\"odd> NOTIFY=NEVER\"@example.test> NOTIFY=DELAY\r\n", DsnNotify.Delay, null)] // a '>' inside quotes is not the path's end
    [InlineData("RCPT TO:<bob@example.test> ORCPT=utf-8;jörg@example.test\r\n", null, "utf-8;jörg@example.test")]
    [InlineData("RCPT TO:<bob@example.test>\tNOTIFY=DELAY\r\n", DsnNotify.Delay, null)] // white space is a TAB too
    public void TakesNotifyAndOrcpt(string line, DsnNotify? notify, string? original)
    {
        var (dsn, refusal) = RcptParameters.Parse(line);
        Assert.Null(refusal);
        Assert.Equal(notify, dsn?.Notify);
        Assert.Equal(original, dsn?.OriginalRecipient);
        if (notify is null && original is null) Assert.Null(dsn);
    }

    [Theory]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY=\r\n", "501 5.5.4 Error: Bad NOTIFY parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY\r\n", "501 5.5.4 Error: Bad NOTIFY parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY=NEVER,SUCCESS\r\n", "501 5.5.4 Error: Bad NOTIFY parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY=SUCCESS,SUCCESS\r\n", "501 5.5.4 Error: Bad NOTIFY parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY=SUCCESS,\r\n", "501 5.5.4 Error: Bad NOTIFY parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY=ALWAYS\r\n", "501 5.5.4 Error: Bad NOTIFY parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> NOTIFY=DELAY NOTIFY=FAILURE\r\n", "501 5.5.4 Error: duplicate NOTIFY parameter")]
    [InlineData("RCPT TO:<bob@example.test> ORCPT=bob@example.test\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> ORCPT=rfc822;\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> ORCPT=;bob@example.test\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> ORCPT=rfc822;b+2bob@example.test\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")] // xtext hex is upper case
    [InlineData("RCPT TO:<bob@example.test> ORCPT=rfc822;b+2\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")]
    [InlineData("RCPT TO:<bob@example.test> ORCPT=rfc822;jörg@example.test\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")] // rfc822 is ASCII xtext
    [InlineData("RCPT TO:<bob@example.test> ORCPT=rfc822;a+0D+0AAction:+20failed@x.test\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")] // decodes to a line break
    [InlineData("RCPT TO:<bob@example.test> ORCPT=rfc822;j+C3+B6rg@example.test\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")] // decodes to non-ASCII
    [InlineData("RCPT TO:<bob@example.test> ORCPT=rfc822;a ORCPT=rfc822;b\r\n", "501 5.5.4 Error: duplicate ORCPT parameter")]
    [InlineData("RCPT TO:<bob@example.test> ORCPT=utf-8;a+b@example.test\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")] // a bare "+"
    [InlineData("RCPT TO:<bob@example.test> ORCPT=utf-8;a\\b@example.test\r\n", "501 5.5.4 Error: Bad ORCPT parameter syntax")] // "\\" only as \\x{HEX}
    [InlineData("RCPT TO:<bob@example.test> RRVS=2026-12-01T00:00:00Z\r\n", "555 5.5.4 Unsupported option: RRVS")]
    [InlineData("RCPT TO:<bob@example.test> X\u0001Y=1\r\n", "555 5.5.4 Unsupported option: XY")]
    public void RefusesWhatItCannotHonour(string line, string reply)
    {
        var (dsn, refusal) = RcptParameters.Parse(line);
        Assert.Null(dsn);
        Assert.Equal(reply, refusal?.ToString());
    }

    [Fact]
    public void RefusesAnOrcptOverFiveHundredCharacters()
    {
        var address = new string('a', 480) + "@example.test"; // 7 + 493 = 500: still taken
        Assert.Null(RcptParameters.Parse($"RCPT TO:<bob@example.test> ORCPT=rfc822;{address}").Refusal);
        Assert.Equal("501 5.5.4 Error: Bad ORCPT parameter syntax", RcptParameters.Parse($"RCPT TO:<bob@example.test> ORCPT=rfc822;a{address}").Refusal?.ToString());
    }
}
