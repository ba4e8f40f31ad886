using Gateway.Smime;
using MimeKit;
using MimeKit.Cryptography;

namespace Gateway.Tests.Smime;

/// <summary>The block-wise base64 of application/pkcs7-mime must be byte for byte what MimeKit writes.</summary>
public sealed class Pkcs7MimePartTests
{
    private static readonly FormatOptions Crlf = CreateCrlf();

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(56)]
    [InlineData(57)]
    [InlineData(58)]
    [InlineData(57 * 256)]
    [InlineData(57 * 256 + 1)]
    [InlineData(100_003)]
    public void WrittenAsPartAndAsMessageBody_IsWhatMimeKitWrites(int length)
    {
        var der = new byte[length];
        new Random(length).NextBytes(der);

        Assert.Equal(Write(new ApplicationPkcs7Mime(SecureMimeType.EnvelopedData, new MemoryStream(der))),
            Write(new Pkcs7MimePart(SecureMimeType.EnvelopedData, new MemoryStream(der))));
        Assert.Equal(WriteAsBody(new ApplicationPkcs7Mime(SecureMimeType.SignedData, new MemoryStream(der))),
            WriteAsBody(new Pkcs7MimePart(SecureMimeType.SignedData, new MemoryStream(der))));
    }

    [Fact]
    public void WrittenWithLfLineEnds_FallsBackToMimeKit()
    {
        var der = new byte[1000];
        new Random(1).NextBytes(der);
        var lf = FormatOptions.Default.Clone();
        lf.NewLineFormat = NewLineFormat.Unix;

        Assert.Equal(Write(new ApplicationPkcs7Mime(SecureMimeType.EnvelopedData, new MemoryStream(der)), lf),
            Write(new Pkcs7MimePart(SecureMimeType.EnvelopedData, new MemoryStream(der)), lf));
    }

    /// <summary>A file or pipe may return fewer bytes than asked: lines must still be 76 characters, padding only at the end.</summary>
    [Fact]
    public void DerReadInShortPieces_IsStillWhatMimeKitWrites()
    {
        var der = new byte[100_003];
        new Random(7).NextBytes(der);

        Assert.Equal(Write(new ApplicationPkcs7Mime(SecureMimeType.EnvelopedData, new MemoryStream(der))),
            Write(new Pkcs7MimePart(SecureMimeType.EnvelopedData, new ShortReads(der))));
    }

    /// <summary>Returns at most 1,000 bytes a read.</summary>
    private sealed class ShortReads(byte[] bytes) : MemoryStream(bytes)
    {
        public override int Read(byte[] buffer, int offset, int count) => base.Read(buffer, offset, Math.Min(count, 1000));
        public override int Read(Span<byte> buffer) => base.Read(buffer[..Math.Min(buffer.Length, 1000)]);
    }

    private static byte[] Write(MimeEntity entity, FormatOptions? options = null)
    {
        using var output = new MemoryStream();
        entity.WriteTo(options ?? Crlf, output);
        return output.ToArray();
    }

    private static byte[] WriteAsBody(MimeEntity entity)
    {
        var message = new MimeMessage();
        message.Headers.Clear();
        message.Headers.Add(HeaderId.Subject, "s");
        message.Body = entity;
        using var output = new MemoryStream();
        message.WriteTo(Crlf, output);
        return output.ToArray();
    }

    private static FormatOptions CreateCrlf()
    {
        var options = FormatOptions.Default.Clone();
        options.NewLineFormat = NewLineFormat.Dos;
        return options;
    }
}
