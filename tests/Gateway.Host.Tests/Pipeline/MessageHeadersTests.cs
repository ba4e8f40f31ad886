using System.Text;
using Gateway.Pipeline;
using Gateway.Spool;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// The header block policy reads is the same whether the message is still in memory (journaled)
/// or in a file, and never includes the body.
/// </summary>
public sealed class MessageHeadersTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-headers-").FullName;

    public void Dispose() => Directory.Delete(_folder, recursive: true);

    public static TheoryData<string, string> Messages => new()
    {
        { "Subject: hi\r\nMessage-ID: <a@b>\r\n\r\nbody\r\n", "Subject: hi\r\nMessage-ID: <a@b>\r\n\r\n" },
        { "Subject: hi\n\nbody with \r\n\r\n inside\n", "Subject: hi\n\n" },
        { "\r\nbody only\r\n", "\r\n" },
        { "Subject: no body at all\r\n", "Subject: no body at all\r\n" },
    };

    [Theory]
    [MemberData(nameof(Messages))]
    public void InMemoryAndInAFile_GiveTheSameHeaderBlock_WithoutTheBody(string message, string block)
    {
        foreach (var content in Both(Encoding.ASCII.GetBytes(message)))
        {
            var headers = MessageHeaders.Read(content);
            Assert.Equal(block, Encoding.ASCII.GetString(headers.Block));
        }
    }

    [Fact]
    public void TheFactsAndMessageId_ComeFromTheHeaderBlock()
    {
        foreach (var content in Both("Subject: quarterly\r\nMessage-ID:  <q@example.test> \r\n\r\nSubject: not this\r\n"u8.ToArray()))
        {
            var headers = MessageHeaders.Read(content);
            Assert.Equal("<q@example.test>", headers.MessageId);
            Assert.Equal("quarterly", headers.Subject);
        }
    }

    [Fact]
    public void AHeaderBlockLongerThanAMebibyte_CountsAsNone()
    {
        var field = "X-Long: " + new string('a', 1024 * 1024) + "\r\n";
        foreach (var content in Both(Encoding.ASCII.GetBytes(field + "\r\nbody\r\n")))
            Assert.Empty(MessageHeaders.Read(content).Block);
    }

    [Fact]
    public void ABodyLargerThanTheReadBuffer_IsNotRead_AndAHeaderBlockSplitAcrossReadsIsFound()
    {
        // 16 KiB of header fields, so the separator falls after the first read of a file.
        var fields = string.Concat(Enumerable.Range(0, 400).Select(i => $"X-Field-{i:D3}: {new string('v', 30)}\r\n"));
        var message = Encoding.ASCII.GetBytes(fields + "\r\n" + new string('b', 3 * 1024 * 1024));
        foreach (var content in Both(message))
            Assert.Equal(fields + "\r\n", Encoding.ASCII.GetString(MessageHeaders.Read(content).Block));
    }

    private IEnumerable<SpooledContent> Both(byte[] message)
    {
        var padded = new byte[message.Length + 100]; // a pooled buffer is larger than its message
        message.CopyTo(padded, 0);
        padded.AsSpan(message.Length).Fill((byte)'!');
        yield return SpooledContent.InMemory(padded, message.Length);
        var path = Path.Combine(_folder, Guid.NewGuid() + ".eml");
        File.WriteAllBytes(path, message);
        yield return SpooledContent.InFile(path);
    }
}
