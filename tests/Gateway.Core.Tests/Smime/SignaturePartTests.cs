using Gateway.Smime;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Tests.Smime;

/// <summary>The signature part's fixed header block and base64 must be what MimeKit's ApplicationPkcs7Signature writes.</summary>
public sealed class SignaturePartTests
{
    [Theory]
    [InlineData(NewLineFormat.Dos, 1)]
    [InlineData(NewLineFormat.Dos, 57)]
    [InlineData(NewLineFormat.Dos, 1641)]
    [InlineData(NewLineFormat.Dos, 20_000)]
    [InlineData(NewLineFormat.Unix, 1641)]
    public void InAMultipartSigned_IsWhatMimeKitWrites(NewLineFormat newLine, int length)
    {
        var signature = new byte[length];
        new Random(length).NextBytes(signature);

        Assert.Equal(Write(new ApplicationPkcs7Signature(new MemoryStream(signature)), newLine),
            Write(new SignaturePart(signature), newLine));
    }

    private static string Write(MimeEntity signaturePart, NewLineFormat newLine)
    {
        var signed = new MultipartSigned { Boundary = "fixed-boundary" };
        signed.Add(new TextPart("plain") { Text = "signed text" });
        signed.Add(signaturePart);
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = newLine;
        using var output = new MemoryStream();
        signed.WriteTo(options, output);
        return System.Text.Encoding.ASCII.GetString(output.ToArray());
    }
}
