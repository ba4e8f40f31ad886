using System.Text;
using Gateway.Mail;

namespace Gateway.Tests.Mail;

public sealed class BccFieldsTests
{
    [Fact]
    public void BccAndResentBccFields_AreDropped_WithTheirFoldedLines_AndEveryOtherByteIsKept()
    {
        var block = Encoding.ASCII.GetBytes("From: a@example.test\nBCC: Carol\n\t<carol@partner.test>\nX-Kept:  as\twritten \r\nresent-bcc :carol@partner.test\r\nX-Bcc-Note: kept\r\n\r\n");

        var dropped = BccFields.Drop(block);

        Assert.Equal("From: a@example.test\nX-Kept:  as\twritten \r\nX-Bcc-Note: kept\r\n\r\n", Encoding.ASCII.GetString(dropped!));
    }

    [Fact]
    public void BlockWithoutBcc_IsLeftAlone()
    {
        Assert.Null(BccFields.Drop("From: a@example.test\r\nSubject: Bcc: in a subject\r\n\r\n"u8));
    }
}
