using Gateway.Smime;
using MimeKit.IO;
using MimeKit.IO.Filters;

namespace Gateway.Tests.Smime;

/// <summary>CrlfStream must write what MimeKit's Unix2DosFilter writes, however the bytes are cut into writes.</summary>
public sealed class CrlfStreamTests
{
    [Theory]
    [InlineData("")]
    [InlineData("\n")]
    [InlineData("\r\n")]
    [InlineData("\r")]
    [InlineData("a\nb\r\nc\rd\n\n\r\r\n")]
    [InlineData("no line end")]
    public void Text_IsWhatUnix2DosWrites(string text)
    {
        var bytes = System.Text.Encoding.ASCII.GetBytes(text);
        Assert.Equal(Unix2Dos(bytes, [bytes.Length]), Crlf(bytes, [bytes.Length]));
        Assert.Equal(Unix2Dos(bytes, [bytes.Length]), Crlf(bytes, Enumerable.Repeat(1, bytes.Length).ToArray()));
    }

    [Fact]
    public void RandomBytes_InRandomWrites_AreWhatUnix2DosWrites()
    {
        var random = new Random(8551);
        byte[] alphabet = "\r\n\r\nab"u8.ToArray();
        for (var i = 0; i < 1000; i++)
        {
            var bytes = new byte[random.Next(0, 300)];
            for (var j = 0; j < bytes.Length; j++) bytes[j] = alphabet[random.Next(alphabet.Length)];
            var cuts = new List<int>();
            for (var left = bytes.Length; left > 0;)
            {
                var cut = Math.Min(left, random.Next(0, 20));
                cuts.Add(cut);
                left -= cut;
            }
            Assert.Equal(Unix2Dos(bytes, [bytes.Length]), Crlf(bytes, [.. cuts]));
        }
    }

    private static byte[] Crlf(byte[] bytes, int[] writes)
    {
        using var output = new MemoryStream();
        using (var crlf = new CrlfStream(output)) Write(crlf, bytes, writes);
        return output.ToArray();
    }

    private static byte[] Unix2Dos(byte[] bytes, int[] writes)
    {
        using var output = new MemoryStream();
        using (var filtered = new FilteredStream(output))
        {
            filtered.Add(new Unix2DosFilter());
            Write(filtered, bytes, writes);
            filtered.Flush();
        }
        return output.ToArray();
    }

    private static void Write(Stream stream, byte[] bytes, int[] writes)
    {
        var offset = 0;
        foreach (var count in writes)
        {
            stream.Write(bytes, offset, count);
            offset += count;
        }
    }
}
