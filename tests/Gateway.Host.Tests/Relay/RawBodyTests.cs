using System.Text;
using Gateway.Relay;
using MimeKit;

namespace Gateway.Tests.Relay;

/// <summary>The relay's unparsed message: the bytes written are the file's, and the size it declares is the size written.</summary>
public sealed class RawBodyTests
{
    [Theory]
    [InlineData("Subject: a\r\n\r\nbody\r\n", "Subject: a\r\n\r\nbody\r\n")]
    [InlineData("Subject: a\r\n\r\nno final line end", "Subject: a\r\n\r\nno final line end\r\n")]
    [InlineData("", "\r\n")]
    public async Task RawMessage_WritesTheBytesAsTheyAre_WithAFinalLineEnd_AndKnowsItsLength(string input, string expected)
    {
        using var content = new MemoryStream(Encoding.ASCII.GetBytes(input));
        using var message = RawMessage.Create(content);
        var format = RawMessage.Format(FormatOptions.Default.Clone());

        using var written = new MemoryStream();
        message.WriteTo(format, written);
        using var writtenAsync = new MemoryStream();
        await message.WriteToAsync(format, writtenAsync);

        Assert.Equal(expected, Encoding.ASCII.GetString(written.ToArray()));
        Assert.Equal(expected, Encoding.ASCII.GetString(writtenAsync.ToArray()));
        Assert.Equal(expected.Length, ((RawBody)message.Body!).Length);
    }

    [Fact]
    public void EightBitBytes_MarkThePartEightBit_SoMailKitDeclaresBody8BitMime()
    {
        using var eightBit = new MemoryStream(Encoding.UTF8.GetBytes("Subject: Grüße\r\n\r\nx\r\n"));
        using var sevenBit = new MemoryStream(Encoding.ASCII.GetBytes("Subject: hi\r\n\r\nx\r\n"));

        Assert.Equal(ContentEncoding.EightBit, ((MimePart)RawMessage.Create(eightBit).Body!).ContentTransferEncoding);
        Assert.NotEqual(ContentEncoding.EightBit, ((MimePart)RawMessage.Create(sevenBit).Body!).ContentTransferEncoding);
    }
}
