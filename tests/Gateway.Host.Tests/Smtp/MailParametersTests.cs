using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

/// <summary>RET and ENVID on MAIL FROM (RFC 3461 §4.3, §4.4): well formed or refused with 501 5.5.4, as is any parameter given twice; other parameters' values are not ours to judge.</summary>
public sealed class MailParametersTests
{
    [Theory]
    [InlineData("MAIL FROM:<alice@example.test>\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> RET=hdrs ENVID=QQ+2Bid-42 SIZE=1000 BODY=8BITMIME\r\n")]
    [InlineData("MAIL FROM:<> RET=FULL\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> AUTH=<>\r\n")]
    public void WellFormedOrOtherParameters_PassUnremarked(string line) => Assert.Null(MailParameters.Check(line));

    [Theory]
    [InlineData("MAIL FROM:<alice@example.test> RET=BODY\r\n", "501 5.5.4 Error: Bad RET parameter syntax")]
    [InlineData("MAIL FROM:<alice@example.test> RET\r\n", "501 5.5.4 Error: Bad RET parameter syntax")]
    [InlineData("MAIL FROM:<alice@example.test> RET=FULL RET=HDRS\r\n", "501 5.5.4 Error: duplicate RET parameter")]
    [InlineData("MAIL FROM:<alice@example.test> ENVID=x+0D+0Ay\r\n", "501 5.5.4 Error: Bad ENVID parameter syntax")]
    [InlineData("MAIL FROM:<alice@example.test> ENVID=a=b\r\n", "501 5.5.4 Error: Bad ENVID parameter syntax")]
    [InlineData("MAIL FROM:<alice@example.test> ENVID=\r\n", "501 5.5.4 Error: Bad ENVID parameter syntax")]
    [InlineData("MAIL FROM:<alice@example.test> envid=a envid=b\r\n", "501 5.5.4 Error: duplicate ENVID parameter")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=100 size=99999999\r\n", "501 5.5.4 Error: duplicate SIZE parameter")]
    [InlineData("MAIL FROM:<alice@example.test> BODY=7BIT BODY=8BITMIME\r\n", "501 5.5.4 Error: duplicate BODY parameter")]
    public void MalformedOrRepeated_IsRefused(string line, string reply) => Assert.Equal(reply, MailParameters.Check(line)?.ToString());

    [Fact]
    public void AnEnvidOverOneHundredCharacters_IsRefused() =>
        Assert.Equal("501 5.5.4 Error: Bad ENVID parameter syntax", MailParameters.Check($"MAIL FROM:<a@example.test> ENVID={new string('e', 101)}")?.ToString());
}
