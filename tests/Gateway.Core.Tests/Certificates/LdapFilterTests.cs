using Gateway.Certificates;

namespace Gateway.Tests.Certificates;

public sealed class LdapFilterTests
{
    [Theory]
    [InlineData("bob@partner.test", "bob@partner.test")]
    [InlineData("*", @"\2a")]
    [InlineData("(", @"\28")]
    [InlineData(")", @"\29")]
    [InlineData(@"\", @"\5c")]
    [InlineData("\0", @"\00")]
    [InlineData("*)(mail=*", @"\2a\29\28mail=\2a")]
    [InlineData(@"a\2a", @"a\5c2a")]
    [InlineData("jörg@beispiel.test", "jörg@beispiel.test")]
    public void Escape_EscapesEveryFilterMetacharacter_AsRfc4515Requires(string value, string expected) =>
        Assert.Equal(expected, LdapFilter.Escape(value));

    [Fact]
    public void Format_AnInjectionAttempt_StaysOneEqualityAssertion()
    {
        var filter = LdapFilter.Format("(&(objectClass=inetOrgPerson)(mail={0}))", "x*)(|(mail=*)(uid=*)\0");

        Assert.Equal(@"(&(objectClass=inetOrgPerson)(mail=x\2a\29\28|\28mail=\2a\29\28uid=\2a\29\00))", filter);
        // Only the template's own parentheses and no wildcard remain unescaped.
        Assert.Equal(3, filter.Count(c => c == '('));
        Assert.DoesNotContain("*", filter);
    }

    [Fact]
    public void Format_ReplacesEveryPlaceholder_AndKeepsOtherBracesLiteral() =>
        Assert.Equal("(|(mail=a@b.test)(proxyAddresses=smtp:a@b.test)(x={1}))",
            LdapFilter.Format("(|(mail={0})(proxyAddresses=smtp:{0})(x={1}))", "a@b.test"));

    [Theory]
    [InlineData("(mail={0})", null)]
    [InlineData("", "must not be empty")]
    [InlineData("(mail=bob)", "must contain {0}")]
    [InlineData("mail={0}", "must be a filter in parentheses")]
    [InlineData("(mail={0}))(x)", "unbalanced")]
    [InlineData("((mail={0})", "unbalanced")]
    public void Problem_NamesWhatIsWrongWithATemplate(string template, string? expected)
    {
        var problem = LdapFilter.Problem(template);
        if (expected is null) Assert.Null(problem);
        else Assert.Contains(expected, problem);
    }
}
