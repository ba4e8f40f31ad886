using System.Text;
using Gateway.Relay;

namespace Gateway.Tests.Relay;

/// <summary>
/// The relay's copy on the wire: for BDAT the file's bytes as they are, with the exact length
/// announced; for DATA dot-stuffed and ended by a lone dot, wherever the reads split the lines.
/// </summary>
public sealed class RelayedContentTests
{
    [Theory]
    [InlineData("Subject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n")]
    [InlineData("Subject: a\r\n\r\nno final line end", "Subject: a\r\n\r\nno final line end\r\n")]
    [InlineData("", "\r\n")]
    public async Task TheBytesGoAsTheyAre_WithAFinalLineEnd_AndTheLengthIsWhatIsWritten(string input, string expected)
    {
        var content = RelayedContent.Scan(new MemoryStream(Encoding.ASCII.GetBytes(input)));

        using var written = new MemoryStream();
        await content.WriteAsync(written, CancellationToken.None);

        Assert.Equal(expected, Encoding.ASCII.GetString(written.ToArray()));
        Assert.Equal(expected.Length, content.Length);
    }

    [Theory]
    [InlineData("a\r\n.b\r\n", "a\r\n..b\r\n.\r\n")]
    [InlineData(".first\r\n", "..first\r\n.\r\n")]
    [InlineData("a\r\n.\r\nb\r\n", "a\r\n..\r\nb\r\n.\r\n")]
    [InlineData("a\r\n..two\r\n", "a\r\n...two\r\n.\r\n")]
    [InlineData("x.y\r\n", "x.y\r\n.\r\n")]
    [InlineData("a\r\n.", "a\r\n..\r\n.\r\n")]
    public async Task ForData_ALineStartingWithADot_GetsAnother_AndTheDataEndsWithALoneDot(string input, string expected)
    {
        var content = RelayedContent.Scan(new MemoryStream(Encoding.ASCII.GetBytes(input)));

        using var written = new MemoryStream();
        await content.WriteDotStuffedAsync(written, CancellationToken.None);

        Assert.Equal(expected, Encoding.ASCII.GetString(written.ToArray()));
    }

    /// <summary>The copy is read 64 KiB at a time: a line end at the end of one read and its dot at the start of the next must still be stuffed.</summary>
    [Theory]
    [InlineData(65_534)] // "\r\n" ends the first read, the dot begins the second
    [InlineData(65_535)] // "\r" ends the first read, "\n." begins the second
    [InlineData(65_533)] // "\r\n." ends the first read
    public async Task DotsAtTheEdgeOfARead_AreStuffed_AndUnstuffingGivesTheCopyBack(int lineEndAt)
    {
        var text = new StringBuilder(new string('x', lineEndAt)).Append("\r\n.dot line\r\n");
        var random = new Random(7);
        while (text.Length < 300_000)
            text.Append(random.Next(4) == 0 ? "." : "").Append(new string('y', random.Next(0, 120))).Append("\r\n");
        var original = text.ToString();
        var content = RelayedContent.Scan(new MemoryStream(Encoding.ASCII.GetBytes(original)));

        using var written = new MemoryStream();
        await content.WriteDotStuffedAsync(written, CancellationToken.None);
        var wire = Encoding.ASCII.GetString(written.ToArray());

        Assert.EndsWith("\r\n.\r\n", wire);
        var lines = wire[..^"\r\n.\r\n".Length].Split("\r\n");
        Assert.All(lines, line => Assert.False(line.StartsWith('.') && !line.StartsWith("..", StringComparison.Ordinal), $"unstuffed dot line: {line}"));
        Assert.Equal(original, string.Join("\r\n", lines.Select(l => l.StartsWith('.') ? l[1..] : l)) + "\r\n");
        Assert.Contains("\r\n..dot line\r\n", wire);
    }

    [Fact]
    public void EightBitBytes_AreFound_SoTheCopyIsDeclaredBody8BitMime()
    {
        Assert.True(RelayedContent.Scan(new MemoryStream(Encoding.UTF8.GetBytes("Subject: Grüße\r\n\r\nx\r\n"))).EightBit);
        Assert.False(RelayedContent.Scan(new MemoryStream(Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nx\r\n"))).EightBit);
    }
}
