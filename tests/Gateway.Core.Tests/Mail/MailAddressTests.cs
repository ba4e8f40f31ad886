using Gateway.Mail;

namespace Gateway.Tests.Mail;

public sealed class MailAddressTests
{
    [Theory]
    [InlineData("alice@example.com", "alice", "example.com")]
    [InlineData("<alice@example.com>", "alice", "example.com")]
    [InlineData("  alice@example.com  ", "alice", "example.com")]
    [InlineData("\"a@b\"@example.com", "\"a@b\"", "example.com")]
    [InlineData("postmaster", "postmaster", "")]
    public void Parse_SplitsAtTheLastAt(string text, string local, string domain)
    {
        var address = MailAddress.Parse(text);

        Assert.Equal(local, address.LocalPart);
        Assert.Equal(domain, address.Domain);
        Assert.False(address.IsNull);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<>")]
    [InlineData("  ")]
    public void Parse_OfAnEmptyPath_IsTheNullSender(string text)
    {
        var address = MailAddress.Parse(text);

        Assert.True(address.IsNull);
        Assert.Equal(MailAddress.Null, address);
        Assert.Equal("", address.ToString());
    }

    [Fact]
    public void Parse_Null_Throws()
    {
        Assert.Throws<ArgumentNullException>(() => MailAddress.Parse(null!));
    }

    [Theory]
    [InlineData("<Alice@Example.COM>", "Alice@Example.COM")]
    [InlineData("postmaster", "postmaster")]
    public void ToString_KeepsTheCaseAsWritten(string text, string expected)
    {
        Assert.Equal(expected, MailAddress.Parse(text).ToString());
    }

    /// <summary>
    /// RFC 5280 §7.5 would compare the local part exactly, but Thunderbird/NSS, Outlook and every
    /// directory (LDAP's mail attribute, our own cache keys) ignore its case: a certificate for
    /// bob.smith@ is Bob.Smith@'s. Only ASCII letters fold, as in LookupKey: the Kelvin sign is not a k.
    /// </summary>
    [Theory]
    [InlineData("alice@example.com", "alice@example.com", true)]
    [InlineData("alice@example.com", "alice@EXAMPLE.Com", true)]
    [InlineData("alice@example.com", "<alice@example.com>", true)]
    [InlineData("alice@example.com", "Alice@example.com", true)]
    [InlineData("alice@example.com", "ALICE@EXAMPLE.COM", true)]
    [InlineData("kelvin@example.com", "\u212Aelvin@example.com", false)]
    [InlineData("alice@example.com", "alice@example.org", false)]
    [InlineData("alice@example.com", "alice@sub.example.com", false)]
    [InlineData("alice@example.com", "bob@example.com", false)]
    public void SameMailboxAs_IgnoresTheAsciiCaseOfLocalPartAndDomain(string left, string right, bool expected)
    {
        var a = MailAddress.Parse(left);
        var b = MailAddress.Parse(right);

        Assert.Equal(expected, a.SameMailboxAs(b));
        Assert.Equal(expected, b.SameMailboxAs(a));
    }

    [Fact]
    public void Envelope_Sender_IsTheParsedMailFrom()
    {
        var envelope = new Envelope("id1", "<Alice@Example.com>", ["bob@example.org"], "127.0.0.1", DateTimeOffset.UnixEpoch);
        var bounce = envelope with { MailFrom = "<>" };

        Assert.Equal(new MailAddress("Alice", "Example.com"), envelope.Sender);
        Assert.True(bounce.Sender.IsNull);
    }

    [Theory]
    [InlineData("Dora@Bücher.Example", "dora@xn--bcher-kva.example")]
    [InlineData("dora@xn--bcher-kva.example", "dora@xn--bcher-kva.example")]
    [InlineData("Bob@Partner.Test", "bob@partner.test")]
    [InlineData("\u212Aelvin@Partner.Test", "\u212Aelvin@partner.test")]
    [InlineData("postmaster", "postmaster")]
    public void LookupKey_IsLowerCase_WithTheDomainInItsAsciiForm(string address, string key)
    {
        Assert.Equal(key, MailAddress.LookupKey(address));
    }

    [Fact]
    public void Spellings_OfAnInternationalDomain_AreTheAddressAsWrittenAndItsOtherIdnForm()
    {
        Assert.Equal(["dora@bücher.example", "dora@xn--bcher-kva.example"], MailAddress.Spellings("dora@bücher.example"));
        Assert.Equal(["dora@xn--bcher-kva.example", "dora@bücher.example"], MailAddress.Spellings("dora@xn--bcher-kva.example"));
        Assert.Equal(["bob@partner.test"], MailAddress.Spellings("bob@partner.test"));
    }
}
