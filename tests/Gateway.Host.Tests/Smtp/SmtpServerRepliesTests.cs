using System.Text;
using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

/// <summary>
/// SmtpServer's replies no session can be led to give on purpose, through the stream every reply
/// passes (the others are proven over a socket in SmtpAbuseTests and SmtpAccessTests).
/// </summary>
public sealed class SmtpServerRepliesTests
{
    private static async Task<string> ClientReadsAsync(string smtpServerWrites)
    {
        var limits = new SmtpSessionLimits("gw.example.test", MaxErrors: 10, DataTimeout: TimeSpan.FromMinutes(10), MaxMessageSize: 1000, CommandTimeout: TimeSpan.FromMinutes(5));
        using var wire = new MemoryStream();
        await using var replies = new ReplyStream(wire, new SmtpConnectionState(limits), () => { });
        await replies.WriteAsync(Encoding.ASCII.GetBytes(smtpServerWrites));
        return Encoding.ASCII.GetString(wire.ToArray());
    }

    /// <summary>
    /// DataCommand answers any exception out of the store (which answers every failure of its own)
    /// or out of the DATA reader with a bare "554 ": a permanent bounce, for what is our fault.
    /// </summary>
    [Fact]
    public async Task DataCommandsAnswerToAnException_IsATemporary451_WithItsEnhancedCode()
    {
        Assert.Equal("451 4.3.0 Temporary local problem, please try again later\r\n", await ClientReadsAsync("554 \r\n"));
    }

    /// <summary>
    /// SmtpServer's "221 bye" after its last failed AUTH: a 421 and a closed connection instead, even
    /// when both come in one write; an earlier failure closes nothing.
    /// </summary>
    [Theory]
    [InlineData("535 authentication failed, 0 attempt(s) remaining.\r\n221 bye\r\n",
        "535 5.7.8 Authentication credentials invalid\r\n421 4.7.0 gw.example.test Error: too many failed authentications\r\n")]
    [InlineData("535 authentication failed, 1 attempt(s) remaining.\r\n", "535 5.7.8 Authentication credentials invalid\r\n")]
    public async Task LastFailedAuth_IsFollowedByA421_NotSmtpServersBye(string smtpServerWrites, string clientReads)
    {
        Assert.Equal(clientReads, await ClientReadsAsync(smtpServerWrites));
    }

    [Theory]
    [InlineData("250 Ok\r\n")]
    [InlineData("221 bye\r\n")] // QUIT's reply, in the same words as SmtpServer's close after failed AUTHs
    [InlineData("553 5.7.1 Sender address rejected: domain not allowed here\r\n")]
    public async Task ReplyNotInTheTable_PassesUnchanged(string reply)
    {
        Assert.Equal(reply, await ClientReadsAsync(reply));
    }
}
