using System.Text;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

/// <summary>The trigger marks leave the top-level header block; every other byte stays as it was.</summary>
public sealed class TriggerStripperTests
{
    private static readonly TriggerSettings Triggers = new("[secure]", "X-Gateway-Encrypt", "yes", []);

    private static string? Strip(string message, bool removeTag = true)
    {
        var bytes = Encoding.Latin1.GetBytes(message);
        var offset = TriggerStripper.BodyOffset(bytes);
        Assert.True(offset > 0);
        var block = TriggerStripper.Strip(bytes.AsSpan(0, offset), Triggers, removeTag);
        return block is null ? null : Encoding.Latin1.GetString(block) + message[offset..];
    }

    [Fact]
    public void SubjectTagAndHeader_AreRemoved_OtherBytesUnchanged()
    {
        const string message = "From: a@example.test\r\nSubject: [SECURE] Figures  Q3\r\nX-Gateway-Encrypt: yes\r\nX-Other:  keep\t \r\n\r\nbody [secure]\r\nX-Gateway-Encrypt: yes\r\n";

        Assert.Equal("From: a@example.test\r\nSubject: Figures  Q3\r\nX-Other:  keep\t \r\n\r\nbody [secure]\r\nX-Gateway-Encrypt: yes\r\n", Strip(message));
    }

    [Fact]
    public void FoldedTriggerHeader_IsRemovedWhole_AndATagAtTheEndTakesItsSpace()
    {
        const string message = "Subject: Re: figures [secure]\r\nx-gateway-encrypt:\r\n yes\r\nTo: b@partner.test\r\n\r\nHi\r\n";

        Assert.Equal("Subject: Re: figures\r\nTo: b@partner.test\r\n\r\nHi\r\n", Strip(message));
    }

    [Fact]
    public void EncodedSubject_IsDecodedAndWrittenAnew_WithoutTheTag()
    {
        const string message = "Subject: =?utf-8?q?=5Bsecure=5D_Gr=C3=BC=C3=9Fe?=\r\nTo: b@partner.test\r\n\r\nHi\r\n";

        var stripped = Strip(message)!;

        Assert.DoesNotContain("secure", stripped, StringComparison.OrdinalIgnoreCase);
        Assert.EndsWith("\r\nTo: b@partner.test\r\n\r\nHi\r\n", stripped, StringComparison.Ordinal);
        Assert.Equal("Grüße", MessageFacts.Parse(Encoding.Latin1.GetBytes(stripped)).Subject);
    }

    [Fact]
    public void SenderNotAllowed_KeepsTheTagButLosesTheHeader()
    {
        const string message = "Subject: [secure] x\r\nX-Gateway-Encrypt: yes\r\n\r\nHi\r\n";

        Assert.Equal("Subject: [secure] x\r\n\r\nHi\r\n", Strip(message, removeTag: false));
    }

    [Fact]
    public void NoMarks_NothingChanges()
    {
        Assert.Null(Strip("Subject: figures\r\nX-Gateway-Encrypted: yes\r\n\r\n[secure]\r\n"));
    }

    [Theory]
    [InlineData("A: b\r\n\r\nbody", 8)]
    [InlineData("A: b\n\nbody", 6)]
    [InlineData("\r\nbody", 2)]
    [InlineData("A: b\r\n", -1)]
    public void BodyOffset_FindsTheEmptyLine(string message, int expected)
    {
        Assert.Equal(expected, TriggerStripper.BodyOffset(Encoding.ASCII.GetBytes(message)));
    }
}
