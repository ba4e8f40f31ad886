using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

/// <summary>
/// Quoted local parts (RFC 5321 §4.1.2): SmtpServer reads them through Regex.Unescape and drops
/// their quotes; what it would misread is refused, what it reads right is quoted again.
/// </summary>
public sealed class QuotedLocalPartTests
{
    [Theory]
    [InlineData("alice", "alice")]
    [InlineData("a..b", "a..b")]                 // common in the wild, left as the client wrote it
    [InlineData("o'brien+tag", "o'brien+tag")]
    [InlineData("jörg", "jörg")]                 // SMTPUTF8
    [InlineData("john doe", "\"john doe\"")]
    [InlineData("x\"y", "\"x\\\"y\"")]
    [InlineData("back\\slash", "\"back\\\\slash\"")]
    [InlineData("a@b", "\"a@b\"")]
    [InlineData("", "\"\"")]
    public void Written_QuotesOnlyWhatADotStringCannotHold(string content, string written) =>
        Assert.Equal(written, QuotedLocalPart.Written(content));

    [Theory]
    [InlineData("RCPT TO:<bob@partner.test>")]
    [InlineData("RCPT TO:<\"john doe\"@partner.test>")]
    [InlineData("RCPT TO:<\"x\\\"y\"@partner.test> NOTIFY=NEVER")]
    [InlineData("RCPT TO:<\"a\\\\b\"@partner.test>")]
    [InlineData("RCPT TO:<\"a\\ b\"@partner.test>")]
    [InlineData("RCPT TO:<@relay.test:\"john doe\"@partner.test>")]
    [InlineData("RCPT TO:<\"unterminated@partner.test>")]   // SmtpServer's own syntax error answers it
    public void WhatSmtpServerReadsAsRfc5321Says_IsNotRefused(string line) => Assert.Null(QuotedLocalPart.Refusal(line, isMail: false));

    [Theory]
    [InlineData("RCPT TO:<\"a\\tb\"@partner.test>")]        // a TAB for SmtpServer
    [InlineData("RCPT TO:<\"a\\r\\nRSET\"@partner.test>")]  // a line break
    [InlineData("RCPT TO:<\"\\u0062ob\"@partner.test>")]    // "bob"
    [InlineData("RCPT TO:<\"quoted \\ocal\"@partner.test>")] // threw: the session ended without a reply
    [InlineData("RCPT TO:<\"a\\\"\"@partner.test>")]         // its Trim('"') eats the escaped quote, then threw
    [InlineData("RCPT TO:<\"quote\\d local\"@partner.tes\"t>")] // SmtpServer reads the local part before the rest of the path
    [InlineData("RCPT TO:<\"\\uoted local\"@partn")]
    public void WhatSmtpServerWouldMisread_IsRefusedAsBadAddressSyntax(string line)
    {
        Assert.Equal("553 5.1.3 Recipient address rejected: a quoted-pair in its local part this server cannot read", QuotedLocalPart.Refusal(line, isMail: false)?.ToString());
        Assert.StartsWith("553 5.1.7 Sender address rejected", QuotedLocalPart.Refusal(line.Replace("RCPT TO:", "MAIL FROM:"), isMail: true)?.ToString());
    }
}
