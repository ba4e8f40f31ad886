using System.Security.Cryptography.Pkcs;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Gateway.Policy;
using Gateway.Smime;
using MimeKit;

namespace Gateway.Tests.Smime;

/// <summary>Builds input messages and takes the transformer's output apart without trusting its serialiser.</summary>
internal static class SmimeTestMessages
{
    public const string AttachmentText = "Grüße aus Köln – 8-bit UTF-8 ✓\nzweite Zeile\n";
    public static readonly DateTimeOffset Now = new(2025, 3, 14, 9, 26, 53, TimeSpan.Zero);

    public static MimeMessage Build(string bodyText = "Hello Bob,\nsee the attachment.\n")
    {
        var message = new MimeMessage();
        message.From.Add(new MailboxAddress("Alice", "alice@example.test"));
        message.To.Add(new MailboxAddress("Bob", "bob@partner.test"));
        message.Cc.Add(new MailboxAddress("Carol", "carol@partner.test"));
        message.Subject = "Quarterly figures";
        message.MessageId = "test-1@example.test";
        var attachment = new MimePart("text", "plain")
        {
            Content = new MimeContent(new MemoryStream(Encoding.UTF8.GetBytes(AttachmentText))),
            ContentTransferEncoding = ContentEncoding.EightBit,
            ContentDisposition = new ContentDisposition(ContentDisposition.Attachment),
            FileName = "gruesse.txt",
        };
        attachment.ContentType.Charset = "utf-8";
        message.Body = new Multipart("mixed") { new TextPart("plain") { Text = bodyText }, attachment };
        return message;
    }

    public static byte[] Serialise(MimeMessage message)
    {
        using var stream = new MemoryStream();
        message.WriteTo(stream); // default format: LF line endings on Linux, 8-bit attachment as is
        return stream.ToArray();
    }

    public static (byte[] Output, SmimeResult Result) Transform(byte[] input, X509Certificate2? signer, IReadOnlyList<X509Certificate2> signerChain,
        IReadOnlyList<X509Certificate2> recipients, CryptoSettings? crypto = null)
    {
        using var original = new MemoryStream(input, writable: false);
        using var output = new MemoryStream();
        var result = SmimeTransformer.Transform(original, new SmimeRequest(signer, signerChain, recipients, crypto ?? CryptoSettings.Default),
            output, Now, CancellationToken.None);
        return (output.ToArray(), result);
    }

    public static MimeMessage Load(byte[] bytes) => MimeMessage.Load(new MemoryStream(bytes, writable: false));

    public static byte[] Decode(MimePart part)
    {
        using var decoded = new MemoryStream();
        Assert.NotNull(part.Content);
        part.Content.DecodeTo(decoded);
        return decoded.ToArray();
    }

    public static EnvelopedCms Envelope(byte[] message)
    {
        var body = Assert.IsType<MimeKit.Cryptography.ApplicationPkcs7Mime>(Load(message).Body);
        Assert.Equal(MimeKit.Cryptography.SecureMimeType.EnvelopedData, body.SecureMimeType);
        var cms = new EnvelopedCms();
        cms.Decode(Decode(body));
        return cms;
    }

    public static byte[] Decrypt(byte[] message, X509Certificate2 recipientWithKey)
    {
        var cms = Envelope(message);
        cms.Decrypt(new X509Certificate2Collection(recipientWithKey));
        return cms.ContentInfo.Content;
    }

    /// <summary>
    /// Splits a multipart/signed entity (or message) at its boundaries, on the raw bytes: the first
    /// part exactly as transmitted, which is what the signature must cover.
    /// </summary>
    public static (byte[] Content, SignedCms Signature, MimeEntity Entity) SplitSigned(byte[] entity)
    {
        var parsed = MimeEntity.Load(new MemoryStream(entity, writable: false));
        var signed = Assert.IsType<MimeKit.Cryptography.MultipartSigned>(parsed);
        var opening = Encoding.ASCII.GetBytes("--" + signed.Boundary + "\r\n");
        var closing = Encoding.ASCII.GetBytes("\r\n--" + signed.Boundary);
        var headerEnd = IndexOf(entity, "\r\n\r\n"u8.ToArray(), 0);
        Assert.True(headerEnd > 0, "no header/body separator with CRLF");
        var start = IndexOf(entity, opening, headerEnd + 2) + opening.Length;
        var end = IndexOf(entity, closing, start);
        Assert.True(start >= opening.Length && end > start, "boundaries not found in the raw bytes");

        var signature = Assert.IsType<MimeKit.Cryptography.ApplicationPkcs7Signature>(signed[1]);
        var content = entity[start..end];
        var cms = new SignedCms(new ContentInfo(content), detached: true);
        cms.Decode(Decode(signature));
        return (content, cms, signed);
    }

    public static void AssertCrlfOnly(byte[] bytes)
    {
        for (var i = 0; i < bytes.Length; i++)
        {
            if (bytes[i] == (byte)'\n') Assert.True(i > 0 && bytes[i - 1] == (byte)'\r', $"bare LF at byte {i}");
            if (bytes[i] == (byte)'\r') Assert.True(i + 1 < bytes.Length && bytes[i + 1] == (byte)'\n', $"bare CR at byte {i}");
        }
    }

    public static string HeaderBlock(byte[] entity)
    {
        var text = Encoding.Latin1.GetString(entity);
        var end = text.IndexOf("\r\n\r\n", StringComparison.Ordinal);
        return end < 0 ? text : text[..end];
    }

    private static int IndexOf(byte[] haystack, byte[] needle, int from)
    {
        var index = haystack.AsSpan(from).IndexOf(needle);
        return index < 0 ? -1 : from + index;
    }
}
