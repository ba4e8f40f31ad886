using System.Text;
using Gateway.Smime;
using MimeKit;

namespace Gateway.Tests.Smime;

/// <summary>Which parts need quoted-printable before signing: lines starting "From " or ending in white space, however the content is read in chunks.</summary>
public sealed class SigningPreparationTests
{
    private const int ReadSize = 64 * 1024; // NeedsProtection's buffer: lines across it must count as one line

    [Theory]
    [InlineData("plain text\r\nsecond line\r\n", false)]
    [InlineData("", false)]
    [InlineData("From here on\r\n", true)]
    [InlineData("a\r\nFrom here on", true)]
    [InlineData("From", false)]
    [InlineData("From\r\n", false)]
    [InlineData(" From here\r\n", false)]
    [InlineData("Fro m\r\nFrom:\r\n", false)]
    [InlineData("trailing space \r\nnext\r\n", true)]
    [InlineData("trailing tab\t\n", true)]
    [InlineData("last line without a line end ", true)]
    [InlineData("cr only at the end\r", true)]  // a bare CR: no LF follows
    [InlineData("space before a lone cr \r", true)]
    [InlineData("two crs\r\r\n", true)]
    [InlineData("bare\rcr\r\n", true)]
    [InlineData("crlf only\r\nnext\r\n", false)]
    [InlineData(" \r\n", true)]
    [InlineData("\r\n\r\n\n", false)]
    [InlineData("-- \r\nAlice\r\n", true)]
    public void Lines(string text, bool expected)
    {
        Assert.Equal(expected, Needs(Encoding.ASCII.GetBytes(text)));
        Assert.Equal(expected, Reference(Encoding.ASCII.GetBytes(text)));
    }

    [Theory]
    [InlineData(ReadSize - 1)]
    [InlineData(ReadSize)]
    [InlineData(ReadSize + 1)]
    [InlineData(ReadSize - 3)]
    [InlineData(ReadSize - 5)]
    public void LineEndsAndLineStarts_AcrossTheReadBuffer(int at)
    {
        foreach (var tail in new[] { "From x\n", "From", "x \r\n", "x\r\n", " \n", "\t", "Fr\nom \n", "\r\n", "ok\n" })
        {
            var bytes = new byte[at + tail.Length];
            bytes.AsSpan(0, at).Fill((byte)'a');
            if (at > 0) bytes[at - 1] = (byte)'\n';
            Encoding.ASCII.GetBytes(tail).CopyTo(bytes, at);
            Assert.Equal(Reference(bytes), Needs(bytes));

            // The same with the line starting well before the buffer's end.
            bytes[at - 1] = (byte)'a';
            bytes[at - 20] = (byte)'\n';
            Assert.Equal(Reference(bytes), Needs(bytes));
        }
    }

    [Fact]
    public void RandomText_AgreesWithALineByLineReading()
    {
        var random = new Random(20250314);
        byte[] alphabet = "From \t\r\nabc"u8.ToArray();
        for (var i = 0; i < 2000; i++)
        {
            var bytes = new byte[random.Next(0, i % 50 == 0 ? 3 * ReadSize : 40)];
            for (var j = 0; j < bytes.Length; j++) bytes[j] = alphabet[random.Next(alphabet.Length)];
            Assert.Equal(Reference(bytes), Needs(bytes));
        }
    }

    private static bool Needs(byte[] bytes) => SigningPreparation.NeedsProtection(new MimeContent(new MemoryStream(bytes)));

    /// <summary>The rule, read the slow way: split at line feeds, one CR before the line feed not counted, any other CR bare.</summary>
    private static bool Reference(byte[] bytes)
    {
        var lines = Encoding.Latin1.GetString(bytes).Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i];
            var followedByLineFeed = i < lines.Length - 1;
            var content = followedByLineFeed && line.EndsWith('\r') ? line[..^1] : line;
            if (content.Contains('\r')) return true;
            if (line.StartsWith("From ", StringComparison.Ordinal)) return true;
            if (content.Length > 0 && content[^1] is ' ' or '\t') return true;
        }
        return false;
    }
}
