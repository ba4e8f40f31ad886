using System.Text;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

/// <summary>A rule an earlier rule always beats can never decide anything: it is an error, located at its name.</summary>
public sealed class PolicyShadowedRuleTests
{
    private static PolicyCompileResult Compile(string rules) => PolicyCompiler.Compile(Encoding.UTF8.GetBytes($$"""
        {
          "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
          "triggers": { "subjectTag": "[secure]", "allowedSenders": [ "*" ] },
          "rules": [
        {{rules}}
          ]
        }
        """), "policy.json");

    [Theory]
    [InlineData("""{ "name": "a", "encrypt": "required" }""", """{ "name": "b", "recipients": [ "partner.test" ] }""")]
    [InlineData("""{ "name": "a", "senders": [ "*" ], "recipients": [ "*" ] }""", """{ "name": "b", "senders": [ "<>" ] }""")]
    [InlineData("""{ "name": "a", "recipients": [ "partner.test", "other.test" ] }""", """{ "name": "b", "recipients": [ "Bob@Partner.test", "other.test" ], "sign": "always" }""")]
    [InlineData("""{ "name": "a", "recipients": [ "*.partner.test" ] }""", """{ "name": "b", "recipients": [ "eu.partner.test", "*.de.partner.test", "x@a.partner.test" ], "sign": "always" }""")]
    [InlineData("""{ "name": "a", "senders": [ "example.test" ] }""", """{ "name": "b", "senders": [ "alice@example.test" ], "triggered": true, "sign": "always" }""")]
    // Matching compares domains in their ASCII form, so must the coverage check (IDN either spelling).
    [InlineData("""{ "name": "a", "recipients": [ "bücher.example" ] }""", """{ "name": "b", "recipients": [ "xn--bcher-kva.example" ], "encrypt": "required" }""")]
    [InlineData("""{ "name": "a", "recipients": [ "xn--bcher-kva.example" ] }""", """{ "name": "b", "recipients": [ "ivan@bücher.example" ], "encrypt": "required" }""")]
    [InlineData("""{ "name": "a", "recipients": [ "*.bücher.example" ] }""", """{ "name": "b", "recipients": [ "eu.xn--bcher-kva.example" ], "encrypt": "required" }""")]
    [InlineData("""{ "name": "a", "recipients": [ "ivan@BÜCHER.example" ] }""", """{ "name": "b", "recipients": [ "ivan@xn--bcher-kva.example" ], "encrypt": "required" }""")]
    public void LaterRule_CoveredByAnEarlierOne_IsReportedAtItsName(string earlier, string later)
    {
        var result = Compile(earlier + ",\n" + later);

        var error = Assert.Single(result.Errors);
        Assert.Equal(6, error.Line);
        Assert.Contains("rule \"b\" can never match: rule \"a\" (line 5)", error.Message);
    }

    [Fact]
    public void IdenticalRules_AreReportedAsDuplicates()
    {
        var result = Compile("""
            { "name": "a", "recipients": [ "partner.test" ], "encrypt": "required" },
            { "name": "b", "recipients": [ "PARTNER.test" ], "encrypt": "required" }
            """);

        var error = Assert.Single(result.Errors);
        Assert.Contains("rule \"b\" duplicates rule \"a\"", error.Message);
        Assert.Equal("policy.json:6:3", $"{error.File}:{error.Line}:{error.Column}");
    }

    [Theory]
    [InlineData("""{ "name": "a", "recipients": [ "partner.test" ] }""", """{ "name": "b", "recipients": [ "partner.test", "other.test" ] }""")]
    [InlineData("""{ "name": "a", "recipients": [ "*.partner.test" ] }""", """{ "name": "b", "recipients": [ "partner.test" ] }""")]
    [InlineData("""{ "name": "a", "senders": [ "example.test" ], "recipients": [ "partner.test" ] }""", """{ "name": "b", "senders": [ "example.test" ] }""")]
    [InlineData("""{ "name": "a", "triggered": true }""", """{ "name": "b", "recipients": [ "partner.test" ] }""")]
    [InlineData("""{ "name": "a", "recipients": [ "bob@partner.test" ] }""", """{ "name": "b", "recipients": [ "partner.test" ] }""")]
    public void PartlyOverlappingRules_AreAccepted(string earlier, string later)
    {
        var result = Compile(earlier + ",\n" + later);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }
}
