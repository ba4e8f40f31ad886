using System.Text;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

/// <summary>Who the To and Cc fields name: the recipients who may share an encrypted copy.</summary>
public sealed class NamedRecipientsTests
{
    [Fact]
    public void ToAndCc_EveryField_DisplayNamesGroupsAndInternationalDomains_AreNamed_BccAndOthersAreNot()
    {
        var block = "From: Alice <alice@example.test>\r\n" +
                    "To: \"Doe, John\" <John.Doe@Partner.test>, =?utf-8?q?J=C3=BCrgen?= <juergen@bücher.example>\r\n" +
                    "Cc: team: carol@partner.test, dave@partner.test;\r\n" +
                    "CC: erin@partner.test\r\n" +
                    "Reply-To: frank@partner.test\r\n" +
                    "Bcc: grace@partner.test\r\n\r\n";

        var named = MessageFacts.Parse(Encoding.UTF8.GetBytes(block)).NamedRecipients();

        Assert.Equal(
            ["carol@partner.test", "dave@partner.test", "erin@partner.test", "john.doe@partner.test", "juergen@xn--bcher-kva.example"],
            named.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void FieldThatDoesNotParse_NamesNobody()
    {
        var named = MessageFacts.Parse("To: <<<not an address\r\n\r\n"u8).NamedRecipients();

        Assert.Empty(named);
    }
}
