using System.Text;
using Gateway.Smime;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Tests.Smime;

/// <summary>
/// Which parts need quoted-printable before signing (lines starting "From " or ending in white
/// space), and which encoding the others get, however the content is read in chunks.
/// </summary>
public sealed class SigningPreparationTests
{
    private const int ReadSize = 64 * 1024; // Read's buffer, and a multiple of MimeKit's 4 KiB reads: lines across it must count as one line

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

    [Fact]
    public void UnprotectedText_GetsTheEncodingMimeKitWouldChoose()
    {
        var random = new Random(20261127);
        // Texts made of whole tokens, so that a CR only ever comes before its LF and no line ends
        // in white space: every text needs no protection and is compared. NUL, 8-bit bytes and
        // long runs of letters in mixes that land on every branch of the rule.
        var tokenSets = new[]
        {
            new[] { "abc", "\r\n" },
            new[] { "abc", "\r\n", "\0" },
            new[] { "abc", "abc", "abc", "\r\n", "\u00e9" },
            new[] { "a", "\u00e9", "\r\n" },
            new[] { new string('a', 40), "b", "\r\n" },
        };
        var seen = new HashSet<ContentEncoding>();
        var compared = 0;
        for (var i = 0; i < 3000; i++)
        {
            var tokens = tokenSets[i % tokenSets.Length];
            var text = new StringBuilder();
            // Under MimeKit's 4 KiB reads, where its count can take a line's CR at a read's end for one more character.
            var length = random.Next(0, 4000);
            while (text.Length < length) text.Append(tokens[random.Next(tokens.Length)]);
            var bytes = Encoding.Latin1.GetBytes(text.ToString());
            if (Reference(bytes)) continue;
            var ours = Part(bytes, ContentEncoding.SevenBit);
            SigningPreparation.Prepare(ours);
            var mimeKit = Part(bytes, ContentEncoding.SevenBit);
            mimeKit.Prepare(EncodingConstraint.SevenBit, 78);
            Assert.Equal(mimeKit.ContentTransferEncoding, ours.ContentTransferEncoding);
            seen.Add(ours.ContentTransferEncoding);
            compared++;
        }
        Assert.True(compared > 2900, $"only {compared} texts compared");
        Assert.True(seen.SetEquals([ContentEncoding.SevenBit, ContentEncoding.QuotedPrintable, ContentEncoding.Base64]), string.Join(", ", seen));
    }

    [Theory]
    [InlineData(78, ContentEncoding.SevenBit)]
    [InlineData(79, ContentEncoding.QuotedPrintable)]
    public void LongestLine_CountsWithoutItsLineEnd_AcrossTheReadBuffer(int lineLength, ContentEncoding expected)
    {
        // The line's CR is the last byte of the first read, its LF the first of the next.
        var bytes = new byte[ReadSize + 20];
        bytes.AsSpan().Fill((byte)'a');
        for (var at = 40; at < ReadSize - lineLength - 1; at += 41) bytes[at] = (byte)'\n'; // short lines before it
        bytes[ReadSize - lineLength - 2] = (byte)'\n';
        bytes[ReadSize - 1] = (byte)'\r';
        bytes[ReadSize] = (byte)'\n';
        bytes[^1] = (byte)'\n';
        var part = Part(bytes, ContentEncoding.SevenBit);
        SigningPreparation.Prepare(part);
        Assert.Equal(expected, part.ContentTransferEncoding);

        // The last line, without a line end, counts too.
        var last = Part(Encoding.ASCII.GetBytes("short\r\n" + new string('a', lineLength)), ContentEncoding.SevenBit);
        SigningPreparation.Prepare(last);
        Assert.Equal(expected, last.ContentTransferEncoding);
    }

    [Theory]
    [InlineData(16, ContentEncoding.QuotedPrintable)]
    [InlineData(17, ContentEncoding.Base64)]
    public void EightBitText_GoesBase64FromSeventeenPerCent(int eightBit, ContentEncoding expected)
    {
        var bytes = new byte[100];
        bytes.AsSpan().Fill((byte)'a');
        bytes.AsSpan(10, eightBit).Fill(0xE9);
        var part = Part(bytes, ContentEncoding.EightBit);
        SigningPreparation.Prepare(part);
        Assert.Equal(expected, part.ContentTransferEncoding);
    }

    [Fact]
    public void PlainShortAscii_KeepsNoTransferEncoding()
    {
        var part = Part("Hello\r\n"u8.ToArray(), ContentEncoding.Default);
        SigningPreparation.Prepare(part);
        Assert.Equal(ContentEncoding.Default, part.ContentTransferEncoding);
    }

    [Fact]
    public void SignedPartInside_IsLeftAsItWasSigned()
    {
        var signedText = Part("Regards\r\n-- \r\nBob\r\n"u8.ToArray(), ContentEncoding.SevenBit);
        var inner = new MultipartSigned { signedText, new MimePart("application", "pkcs7-signature") { Content = new MimeContent(new MemoryStream([0x30, 0x00])) } };
        var footer = Part("list footer \r\n"u8.ToArray(), ContentEncoding.SevenBit);
        var outer = new Multipart("mixed") { inner, footer };

        SigningPreparation.Prepare(outer);

        Assert.Equal(ContentEncoding.SevenBit, signedText.ContentTransferEncoding);
        Assert.Equal(ContentEncoding.QuotedPrintable, footer.ContentTransferEncoding);
    }

    private static TextPart Part(byte[] bytes, ContentEncoding encoding) =>
        new("plain") { Content = new MimeContent(new MemoryStream(bytes), encoding), ContentTransferEncoding = encoding };

    private static bool Needs(byte[] bytes) => SigningPreparation.Read(new MimeContent(new MemoryStream(bytes))).NeedsProtection;

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
