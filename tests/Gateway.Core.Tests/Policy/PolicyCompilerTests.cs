using System.Text;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

public sealed class PolicyCompilerTests
{
    private const string File = "policy.json";

    // Same shape as the shipped policy.json: header comments, a default, two rules.
    private const string ShippedStyle = """
        // Gateway policy: rules are matched per recipient, first match wins.
        {
          "default": {
            "sign": "ifPossible",
            "encrypt": "ifPossible",
            "missingCertificate": "refuse"
          },
          "rules": [
            {
              "name": "partner-test-requires-encryption",
              "senders": [ "example.test" ],
              "recipients": [ "partner.test" ],
              "sign": "always",
              "encrypt": "required",
              "missingCertificate": "hold"
            },
            {
              "name": "internal-senders-sign",
              "senders": [ "example.test" ],
              "sign": "always"
            }
          ]
        }
        """;

    private static PolicyCompileResult Compile(string json) => PolicyCompiler.Compile(Encoding.UTF8.GetBytes(json), File);

    private static PolicyError SingleError(string json)
    {
        var result = Compile(json);
        Assert.False(result.Succeeded);
        Assert.Null(result.Snapshot);
        return Assert.Single(result.Errors);
    }

    [Fact]
    public void ShippedStylePolicy_Compiles_WithRulesInOrderAndDefault()
    {
        var result = Compile(ShippedStyle);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        var snapshot = result.Snapshot!;
        Assert.Equal(File, snapshot.Source);
        Assert.Equal(["partner-test-requires-encryption", "internal-senders-sign"], snapshot.Rules.Select(r => r.Name));
        Assert.Equal(new PolicyAction(SignMode.IfPossible, EncryptMode.IfPossible, MissingCertificateAction.Refuse, CryptoSettings.Default), snapshot.Default);
        var partner = snapshot.Rules[0];
        Assert.Equal(["example.test"], partner.Senders.Select(p => p.Text));
        Assert.Equal(["partner.test"], partner.Recipients.Select(p => p.Text));
        Assert.Equal(new PolicyAction(SignMode.Always, EncryptMode.Required, MissingCertificateAction.Hold, CryptoSettings.Default), partner.Action);
        Assert.Empty(snapshot.Rules[1].Recipients);
    }

    [Fact]
    public void Revision_IsTwelveLowercaseHexCharacters_AndStableForTheSameText()
    {
        var first = Compile(ShippedStyle).Snapshot!.Revision;
        var second = Compile(ShippedStyle).Snapshot!.Revision;

        Assert.Matches("^[0-9a-f]{12}$", first);
        Assert.Equal(first, second);
    }

    [Fact]
    public void Revision_ChangesWhenTheTextChanges()
    {
        var original = Compile(ShippedStyle).Snapshot!.Revision;
        var editedSnapshot = Compile(ShippedStyle.Replace("\"sign\": \"always\"\n    }", "\"sign\": \"never\"\n    }", StringComparison.Ordinal)).Snapshot!;
        var commentOnly = Compile("// edited by ops\n" + ShippedStyle).Snapshot!.Revision;

        Assert.Equal(SignMode.Never, editedSnapshot.Rules[1].Action.Sign); // the edit really happened
        Assert.NotEqual(original, editedSnapshot.Revision);
        Assert.NotEqual(original, commentOnly);
    }

    [Fact]
    public void CommentsAndTrailingCommas_AreAccepted()
    {
        var result = Compile("""
            /* block comment */
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "hold", }, // trailing comma
              "rules": [
                { "name": "a", "recipients": [ "a.test", ], },
              ],
            }
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(MissingCertificateAction.Hold, result.Snapshot!.Default.MissingCertificate);
        Assert.Equal("a", Assert.Single(result.Snapshot.Rules).Name);
    }

    [Fact]
    public void MissingDefault_IsAnError_AtTheRootObject()
    {
        var error = SingleError("""
            // no default here
            {
              "rules": []
            }
            """);

        Assert.Equal(File, error.File);
        Assert.Contains("\"default\"", error.Message);
        Assert.Equal((2, 1), (error.Line, error.Column));
    }

    [Fact]
    public void DefaultLackingFields_IsAnError_NamingEveryMissingField()
    {
        var error = SingleError("""
            {
              "rules": [],
              "default": {
                "sign": "always"
              }
            }
            """);

        Assert.Contains("encrypt", error.Message);
        Assert.Contains("missingCertificate", error.Message);
        Assert.DoesNotContain("sign", error.Message);
        Assert.Equal((3, 3), (error.Line, error.Column));
    }

    [Fact]
    public void DefaultWithNoFields_NamesSignEncryptAndMissingCertificate()
    {
        var error = SingleError("""{ "default": {} }""");

        Assert.Contains("sign, encrypt, missingCertificate", error.Message);
    }

    [Fact]
    public void UnknownKey_IsAnError_WithItsLineColumnAndJsonPath()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                {
                  "name": "typo",
                  "sendres": [ "example.test" ]
                }
              ]
            }
            """);

        Assert.Contains("unknown key", error.Message);
        Assert.Contains("$.rules[0].sendres", error.Message);
        Assert.Equal(6, error.Line);
        Assert.Equal(7, error.Column); // the opening quote of "sendres"
    }

    [Fact]
    public void InvalidEnumValue_IsAnError_OnItsLine()
    {
        var error = SingleError("""
            {
              "default": {
                "sign": "ifPossible",
                "encrypt": "sometimes",
                "missingCertificate": "refuse"
              }
            }
            """);

        Assert.Contains("invalid value", error.Message);
        Assert.Contains("$.default.encrypt", error.Message);
        Assert.Equal(4, error.Line);
    }

    [Fact]
    public void IntegerEnumValue_IsRejected()
    {
        var error = SingleError("""
            {
              "default": { "sign": 0, "encrypt": "never", "missingCertificate": "refuse" }
            }
            """);

        Assert.Equal(2, error.Line);
    }

    [Fact]
    public void SyntaxError_IsReportedWithItsLine()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" }
              "rules": []
            }
            """);

        Assert.Equal(3, error.Line);
        Assert.DoesNotContain("LineNumber", error.Message);
    }

    [Fact]
    public void AuthenticatedEncryptionNever_WithAGcmCipherInheritedFromTheDefault_IsAnErrorAtTheRule()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse", "contentEncryption": "aes256Gcm" },
              "rules": [ { "name": "gpgsm-partners", "recipients": ["partner.test"], "authenticatedEncryption": "never" } ]
            }
            """);

        Assert.Contains("\"authenticatedEncryption\": \"never\" contradicts \"contentEncryption\": \"aes256Gcm\"", error.Message);
        Assert.Equal(3, error.Line);
    }

    [Fact]
    public void GcmCiphers_AndAuthenticatedEncryption_CompileIntoTheRulesCrypto()
    {
        var result = Compile("""
            {
              "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse", "authenticatedEncryption": "never" },
              "rules": [ { "name": "known-gcm", "recipients": ["partner.test"], "contentEncryption": "aes128Gcm", "authenticatedEncryption": "whenAdvertised" } ]
            }
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(AuthenticatedEncryption.Never, result.Snapshot!.Default.Crypto.AuthenticatedEncryption);
        Assert.Equal(ContentEncryption.Aes128Gcm, result.Snapshot.Rules[0].Action.Crypto.ContentEncryption);
    }

    [Fact]
    public void DuplicateKeyInARule_IsAnError_AtTheSecondKey()
    {
        // Last-wins would quietly turn "required" into "never": plaintext to a partner that needs encryption.
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [
                {
                  "name": "partner",
                  "recipients": [ "partner.test" ],
                  "encrypt": "required",
                  "encrypt": "never"
                }
              ]
            }
            """);

        Assert.Contains("\"encrypt\" is given twice", error.Message);
        Assert.Contains("$.rules[0].encrypt", error.Message);
        Assert.Equal((8, 7), (error.Line, error.Column)); // the opening quote of the second "encrypt"
    }

    [Fact]
    public void SecondRulesArray_IsAnError_InsteadOfDroppingTheFirst()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [ { "name": "partner", "recipients": [ "partner.test" ], "encrypt": "required", "missingCertificate": "hold" } ],
              "rules": [ { "name": "appended", "recipients": [ "other.test" ], "sign": "always" } ]
            }
            """);

        Assert.Contains("\"rules\" is given twice", error.Message);
        Assert.Equal((4, 3), (error.Line, error.Column));
    }

    [Fact]
    public void SameKeyInTwoDifferentObjects_IsNotADuplicate()
    {
        var result = Compile("""
            {
              "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [
                { "name": "a", "recipients": [ "a.test" ], "encrypt": "required" },
                { "name": "b", "recipients": [ "b.test" ], "encrypt": "never" }
              ]
            }
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
    }

    [Fact]
    public void NullRule_IsAnError_WithItsLine_NotACrash()
    {
        var error = SingleError("""
            {
              "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [
                null
              ]
            }
            """);

        Assert.Contains("a rule must be an object", error.Message);
        Assert.Equal((4, 5), (error.Line, error.Column));
    }

    [Theory]
    [InlineData("""{ "name": "p", "recipients": null, "encrypt": "never" }""", "$.rules[0].recipients")]
    [InlineData("""{ "name": "p", "recipients": [ "partner.test", null ] }""", "$.rules[0].recipients[1]")]
    [InlineData("""{ "name": "p", "recipients": [ "partner.test" ], "encrypt": null }""", "$.rules[0].encrypt")]
    [InlineData("""{ "name": null, "recipients": [ "partner.test" ] }""", "$.rules[0].name")]
    public void NullValueInARule_IsAnError_AtItsKey(string rule, string path)
    {
        // "recipients": null read as "everyone" would widen a rule the admin meant to narrow.
        var error = SingleError($$"""
            {
              "default": { "sign": "never", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [ {{rule}} ]
            }
            """);

        Assert.Contains("null", error.Message);
        Assert.Contains(path, error.Message);
        Assert.Equal(3, error.Line);
    }

    [Theory]
    [InlineData("""{ "default": null }""")]
    [InlineData("""{ "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" }, "rules": null }""")]
    [InlineData("""{ "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" }, "triggers": { "subjectTag": "[s]", "allowedSenders": [ null ] } }""")]
    [InlineData("""null""")]
    public void NullElsewhere_IsAnError_NotACrash(string json)
    {
        var error = SingleError(json);

        Assert.Equal(1, error.Line);
    }

    [Fact]
    public void HeaderProtection_IsInheritedFromTheDefault_AndARuleCanSetItsOwn()
    {
        var result = Compile("""
            {
              "default": { "sign": "always", "encrypt": "ifPossible", "missingCertificate": "refuse", "headerProtection": "protected" },
              "rules": [
                { "name": "partners", "recipients": [ "partner.test" ], "encrypt": "required", "headerProtection": "hideSubject" },
                { "name": "others", "recipients": [ "other.test" ], "encrypt": "never" }
              ]
            }
            """);

        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        Assert.Equal(HeaderProtection.Protected, result.Snapshot!.Default.Crypto.HeaderProtection);
        Assert.Equal(HeaderProtection.HideSubject, result.Snapshot.Rules[0].Action.Crypto.HeaderProtection);
        Assert.Equal(HeaderProtection.Protected, result.Snapshot.Rules[1].Action.Crypto.HeaderProtection);
    }

    [Fact]
    public void HeaderProtection_AnUnknownValue_IsAnErrorListingTheValues()
    {
        var error = SingleError("""
            { "default": { "sign": "always", "encrypt": "ifPossible", "missingCertificate": "refuse", "headerProtection": "encryptSubject" } }
            """);

        Assert.Contains("must be one of \"none\", \"protected\", \"hideSubject\"", error.Message);
    }
}
