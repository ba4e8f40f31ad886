using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

/// <summary>MAIL's SIZE (RFC 1870): over the limit 552 5.3.4, not 1 to 20 digits 501 5.5.4, whatever SmtpServer's int can hold.</summary>
public sealed class DeclaredSizeTests
{
    private const long Limit = 50 * 1024 * 1024;

    [Theory]
    [InlineData("MAIL FROM:<alice@example.test>\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=0\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> BODY=8BITMIME size=52428800\r\n")] // the limit itself
    [InlineData("MAIL FROM:<alice@example.test> SIZE=00000000000000001000\r\n")]    // 20 digits
    public void NoSizeOrOneWithinTheLimit_Passes(string line) => Assert.Null(DeclaredSize.Check(line, Limit));

    [Theory]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=52428801\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=2147483648\r\n")]            // past SmtpServer's int
    [InlineData("MAIL FROM:<alice@example.test> SIZE=9223372036854775808\r\n")]   // past long
    [InlineData("MAIL FROM:<alice@example.test> SIZE=99999999999999999999\r\n")]  // past ulong, still 20 digits
    public void SizeOverTheLimit_Gets552(string line) =>
        Assert.Equal("552 5.3.4 Message size exceeds fixed limit", DeclaredSize.Check(line, Limit)?.ToString());

    [Theory]
    [InlineData("MAIL FROM:<alice@example.test> SIZE\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=abc\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=-1\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=+100\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=1e9\r\n")]
    [InlineData("MAIL FROM:<alice@example.test> SIZE=000000000000000000001\r\n")] // 21 digits
    public void SizeThatIsNotOneToTwentyDigits_Gets501(string line) =>
        Assert.Equal("501 5.5.4 Error: Bad SIZE parameter syntax", DeclaredSize.Check(line, Limit)?.ToString());
}
