using System.Text;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

/// <summary>Errors found after deserialisation, located through the JSON position map.</summary>
public sealed class PolicyCompilerRuleTests
{
    private static PolicyCompileResult Compile(string json) => PolicyCompiler.Compile(Encoding.UTF8.GetBytes(json), "policy.json");

    private static PolicyError SingleError(string json)
    {
        var result = Compile(json);
        Assert.False(result.Succeeded);
        Assert.Null(result.Snapshot);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void InvalidPattern_InSecondRuleThirdRecipient_PointsAtThatElement()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                { "name": "first", "recipients": [ "a.test" ] },
                {
                  "name": "second",
                  "recipients": [
                    "ok.test",
                    "user@ok.test",
                    "not a domain"
                  ]
                }
              ]
            }
            """);

        Assert.Equal(10, error.Line);
        Assert.Equal(9, error.Column);
        Assert.Contains("'not a domain'", error.Message);
    }

    [Theory]
    [InlineData("user@", "no valid domain")]
    [InlineData("*.", "subdomain wildcard")]
    [InlineData("", "empty pattern")]
    [InlineData("-bad.test", "not an address, a domain")]
    [InlineData("a..test", "not an address, a domain")]
    public void InvalidSenderPattern_IsRejectedWithAReason(string pattern, string reason)
    {
        var error = SingleError($$"""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                { "name": "r",
                  "senders": [ "{{pattern}}" ] }
              ]
            }
            """);

        Assert.Contains(reason, error.Message);
        Assert.Equal(5, error.Line);
    }

    [Fact]
    public void DuplicateRuleNames_AreAnError_AtTheSecondName_IgnoringCase()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                { "name": "partners", "recipients": [ "a.test" ] },
                {
                  "recipients": [ "b.test" ],
                  "name": "Partners"
                }
              ]
            }
            """);

        Assert.Contains("used twice", error.Message);
        Assert.Equal(7, error.Line);
    }

    [Fact]
    public void EmptySendersList_IsAnError_BecauseItWouldMatchNothing()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                {
                  "name": "nobody",
                  "senders": [],
                  "encrypt": "required"
                }
              ]
            }
            """);

        Assert.Contains("empty list", error.Message);
        Assert.Equal(6, error.Line);
    }

    [Fact]
    public void RuleWithoutName_IsAnError_AtTheRule()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                { "name": "named" },
                {
                  "recipients": [ "b.test" ]
                }
              ]
            }
            """);

        Assert.Contains("rule 2 has no \"name\"", error.Message);
        Assert.Equal((5, 5), (error.Line, error.Column));
    }

    [Theory]
    [InlineData("default")]
    [InlineData("DEFAULT")]
    public void RuleNamedDefault_IsAnError_BecauseTheNameIsReserved(string name)
    {
        var error = SingleError($$"""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                {
                  "name": "{{name}}"
                }
              ]
            }
            """);

        Assert.Contains("reserved", error.Message);
        Assert.Equal(5, error.Line);
    }

    [Fact]
    public void SeveralProblems_AreAllReported_InOneCompile()
    {
        var result = Compile("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                { "name": "a", "senders": [] },
                { "name": "a", "recipients": [ "x y" ] }
              ]
            }
            """);

        Assert.False(result.Succeeded);
        Assert.Null(result.Snapshot);
        Assert.Equal([4, 5, 5], result.Errors.Select(e => e.Line).Order());
    }

    [Fact]
    public void Error_FormatsAsFileLineColumnMessage()
    {
        var error = new PolicyError("/etc/gateway/policy.json", 7, 3, "boom");

        Assert.Equal("/etc/gateway/policy.json:7:3: boom", error.ToString());
    }

    [Fact]
    public void ErrorColumn_CountsCharacters_NotUtf8Bytes()
    {
        // "bücher.test" is an IDN domain: ü is one character (what the admin's editor counts) but two bytes.
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                { "name": "idn", "recipients": [ "bücher.test", "bad pattern" ] }
              ]
            }
            """);

        Assert.Equal(4, error.Line);
        Assert.Equal(53, error.Column);
    }

    [Fact]
    public void PolicyWithUtf8ByteOrderMark_Compiles()
    {
        // Editors on Windows save UTF-8 with a BOM; the host reads the file with File.ReadAllBytes.
        var json = Encoding.UTF8.GetBytes("""{ "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" } }""");
        byte[] withBom = [0xEF, 0xBB, 0xBF, .. json];

        var result = PolicyCompiler.Compile(withBom, "policy.json");

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }
}
