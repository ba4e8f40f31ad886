using System.Text;
using Gateway.Smime;
using Gateway.Testing;
using MimeKit;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// The entity to be signed, written without MimeKit's newline filter, is byte for byte what MimeKit
/// writes through it, for every corpus message and the awkward bodies, once prepared for signing.
/// </summary>
public sealed class CanonicalWriterTests
{
    public static TheoryData<string> Names() => new(Messages().Select(m => m.Name));

    [Theory]
    [MemberData(nameof(Names))]
    public void PreparedEntity_IsWrittenAsMimeKitWritesIt(string name)
    {
        var message = MimeMessage.Load(new MemoryStream(Messages().Single(m => m.Name == name).Message, writable: false));
        var body = message.Body ?? new TextPart("plain") { Text = "" };
        SigningPreparation.Prepare(body);
        var children = Children(body);

        var mimeKit = new MemoryStream();
        using (var crlf = new CrlfStream(mimeKit)) body.WriteTo(SmimeTransformer.Canonical, crlf);
        var ours = new MemoryStream();
        using (var crlf = new CrlfStream(ours)) CanonicalWriter.Write(body, SmimeTransformer.Canonical, crlf);

        Assert.Equal(Encoding.Latin1.GetString(mimeKit.ToArray()), Encoding.Latin1.GetString(ours.ToArray()));
        Assert.Equal(children, Children(body)); // the parts it stood in for are back in place
    }

    private static IEnumerable<(string Name, byte[] Message)> Messages()
    {
        foreach (var message in Corpus.Messages()) yield return message;
        foreach (var row in SignedOutputEdgeCaseTests.AwkwardMessages()) yield return ((string)row[0], (byte[])row[1]);
        yield return ("built", Serialise(Build()));
        yield return ("quoted-printable and 8-bit", Encoding.UTF8.GetBytes(
            "Subject: s\r\nMIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary=\"a\"\r\n\r\npreamble\r\n--a\r\n" +
            "Content-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\nGrüße \r\n-- \r\nAlice\n\r\n--a\r\n" +
            "Content-Type: text/html\r\n\r\n<p>" + new string('x', 300) + "</p>\r\n--a\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: 7bit\r\n\r\nFrom a\r\n--a--\r\nepilogue\r\n"));
    }

    private static List<MimeEntity> Children(MimeEntity entity) =>
        entity is Multipart multipart ? [multipart, .. multipart.SelectMany(Children)] : [entity];
}
