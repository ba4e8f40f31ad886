using System.Text;
using Gateway.Policy;
using MimeKit;
using static Gateway.Tests.Smime.SmimeTestMessages;

namespace Gateway.Tests.Smime;

/// <summary>
/// A header block with a line that is no header field ("Name: value") nor a folded continuation:
/// Postfix, and every MTA after the gateway, reads that line as the start of the body. MimeKit
/// refuses such a line only when it is the first; a later one it keeps as a "header" and writes
/// back unchanged. Above the envelope, that would send text of the body in clear. Spooled mail
/// always starts with the gateway's Received line, so the later-line case is the one that occurs.
/// </summary>
public sealed class MalformedHeaderBlockTests(PkiFixture fixture) : IClassFixture<PkiFixture>
{
    private const string Spooled = "Received: from client.example.test (localhost [127.0.0.1])\r\n\tby gateway.example.test; Fri, 14 Mar 2025 09:26:53 +0000\r\n";
    private const string Secret = "Bob, the price is 41.5M";

    public static TheoryData<string, string> Blocks() => new()
    {
        { "a text line, then the blank line", $"From: <alice@example.test>\r\nTo: <bob@partner.test>\r\nSubject: Q3\r\n{Secret}\r\nX-Looks-Like: a header\r\n\r\nDetails follow.\r\n" },
        { "no blank line at all", $"From: <alice@example.test>\r\nTo: <bob@partner.test>\r\nSubject: Q3\r\n{Secret}\r\nDetails follow.\r\n" },
        { "a line with a colon after a space", $"From: <alice@example.test>\r\nTo: <bob@partner.test>\r\n{Secret}: final\r\n\r\nDetails follow.\r\n" },
        { "after a field with white space before its colon", $"From: <alice@example.test>\r\nSubject : Q3\r\n{Secret}\r\n\r\nDetails follow.\r\n" },
    };

    [Theory]
    [MemberData(nameof(Blocks))]
    public void LineThatIsNoHeaderField_EndsTheHeaders_AndTravelsInsideTheEnvelope(string name, string message)
    {
        var (output, result) = Transform(Encoding.ASCII.GetBytes(Spooled + message), fixture.Alice.Certificate, [fixture.Alice.PublicCertificate],
            [fixture.Bob.PublicCertificate], CryptoSettings.Default);

        var outside = HeaderBlock(output);
        Assert.DoesNotContain("41.5M", outside);
        Assert.DoesNotContain("Looks-Like", outside);
        Assert.Contains("From: <alice@example.test>", outside);
        if (message.Contains("Q3", StringComparison.Ordinal)) Assert.Contains("Q3", outside); // the fields before that line stay headers
        Assert.True(result.Encrypted, name);
        Assert.Contains("repaired", result.Note);

        var (content, signature, _) = SplitSigned(Decrypt(output, fixture.Bob.Certificate));
        signature.CheckSignature(verifySignatureOnly: true);
        var inside = Encoding.ASCII.GetString(content);
        Assert.Contains(Secret, inside);
        Assert.Contains("Details follow.", inside);
    }

    /// <summary>RFC 5322's obsolete syntax allows white space before the colon, and Postfix reads such a line as a header field.</summary>
    [Fact]
    public void FieldWithWhiteSpaceBeforeItsColon_IsStillAHeader_AndTheFieldsAfterItStayHeaders()
    {
        var (output, result) = Transform(Encoding.ASCII.GetBytes(Spooled + "From: <alice@example.test>\r\nSubject : Q3\r\nX-After: kept\r\n\r\nHello.\r\n"),
            fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [fixture.Bob.PublicCertificate], CryptoSettings.Default);

        var outside = HeaderBlock(output);
        Assert.Contains("X-After: kept", outside);
        Assert.Contains("Q3", outside);
        Assert.DoesNotContain("X-After", Encoding.ASCII.GetString(SplitSigned(Decrypt(output, fixture.Bob.Certificate)).Content));
        Assert.True(result.Encrypted);
    }

    [Fact]
    public void WellFormedBlock_IsNotRepaired()
    {
        var (output, result) = Transform(Encoding.ASCII.GetBytes(Spooled + "From: <alice@example.test>\r\nSubject: Q3\r\n\r\nHello.\r\n"),
            fixture.Alice.Certificate, [fixture.Alice.PublicCertificate], [fixture.Bob.PublicCertificate], CryptoSettings.Default);

        Assert.Null(result.Note);
        Assert.Contains("Subject: Q3", HeaderBlock(output));
    }
}
