using System.Text;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

public sealed class PolicySnapshotTests
{
    private static PolicySnapshot Compile(string json)
    {
        var result = PolicyCompiler.Compile(Encoding.UTF8.GetBytes(json), "policy.json");
        Assert.True(result.Succeeded, string.Join("\n", result.Errors));
        return result.Snapshot!;
    }

    private static readonly PolicySnapshot Layered = Compile("""
        {
          "default": {
            "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse",
            "contentEncryption": "aes128Cbc", "keyTransport": "rsaOaepSha256", "digest": "sha384"
          },
          "rules": [
            { "name": "bounces", "senders": [ "<>" ], "sign": "never", "encrypt": "never" },
            { "name": "vip", "recipients": [ "ceo@partner.test" ], "encrypt": "required", "missingCertificate": "hold" },
            { "name": "partner", "recipients": [ "partner.test" ], "encrypt": "required", "digest": "sha512" },
            { "name": "partner-subs", "recipients": [ "*.partner.test" ], "contentEncryption": "aes256Cbc" },
            { "name": "internal", "senders": [ "example.test" ], "recipients": [ "example.test" ], "sign": "always", "encrypt": "never" }
          ]
        }
        """);

    [Fact]
    public void FirstMatchingRule_Wins_EvenWhenALaterRuleAlsoMatches()
    {
        var vip = Layered.Evaluate("alice@example.test", "ceo@partner.test");
        var other = Layered.Evaluate("alice@example.test", "sales@partner.test");

        Assert.Equal("vip", vip.RuleName);
        Assert.Equal(MissingCertificateAction.Hold, vip.MissingCertificate);
        Assert.Equal("partner", other.RuleName);
        Assert.Equal(MissingCertificateAction.Refuse, other.MissingCertificate);
    }

    [Fact]
    public void RuleOrder_DecidesTheAnswer()
    {
        var reversed = Compile("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [
                { "name": "partner", "recipients": [ "partner.test" ], "encrypt": "required" },
                { "name": "vip", "recipients": [ "ceo@partner.test", "ceo@other.test" ], "encrypt": "ifPossible" }
              ]
            }
            """);

        // vip still decides for ceo@other.test (so it is not fully shadowed), but partner comes first for ceo@partner.test.
        Assert.Equal("partner", reversed.Evaluate("alice@example.test", "ceo@partner.test").RuleName);
        Assert.Equal("vip", reversed.Evaluate("alice@example.test", "ceo@other.test").RuleName);
    }

    [Fact]
    public void NoMatchingRule_TheDefaultAnswers()
    {
        var answer = Layered.Evaluate("alice@example.test", "someone@elsewhere.test");

        Assert.Equal(PolicySnapshot.DefaultRuleName, answer.RuleName);
        Assert.Equal("someone@elsewhere.test", answer.Recipient);
        Assert.Equal(SignMode.IfPossible, answer.Sign);
        Assert.Equal(EncryptMode.IfPossible, answer.Encrypt);
        Assert.Equal(new CryptoSettings(ContentEncryption.Aes128Cbc, KeyTransport.RsaOaepSha256, SignatureDigest.Sha384), answer.Crypto);
    }

    [Fact]
    public void RuleNeedsSenderAndRecipientToMatch()
    {
        Assert.Equal("internal", Layered.Evaluate("alice@example.test", "bob@example.test").RuleName);
        Assert.Equal("default", Layered.Evaluate("alice@other.test", "bob@example.test").RuleName);
        Assert.Equal("default", Layered.Evaluate("alice@example.test", "bob@other.test").RuleName);
    }

    [Fact]
    public void NullSenderRule_AppliesOnlyToBounces()
    {
        Assert.Equal("bounces", Layered.Evaluate("", "sales@partner.test").RuleName);
        Assert.Equal("bounces", Layered.Evaluate("<>", "sales@partner.test").RuleName);
        Assert.Equal("partner", Layered.Evaluate("alice@example.test", "sales@partner.test").RuleName);
    }

    [Fact]
    public void SubdomainRule_DoesNotCatchTheParentDomain()
    {
        Assert.Equal("partner-subs", Layered.Evaluate("alice@example.test", "x@eu.partner.test").RuleName);
        Assert.Equal("partner", Layered.Evaluate("alice@example.test", "x@PARTNER.test").RuleName);
    }

    [Fact]
    public void AbsentRuleFields_InheritFromTheDefault()
    {
        var partner = Layered.Evaluate("alice@example.test", "sales@partner.test");

        Assert.Equal(SignMode.IfPossible, partner.Sign); // from default
        Assert.Equal(EncryptMode.Required, partner.Encrypt); // from rule
        Assert.Equal(MissingCertificateAction.Refuse, partner.MissingCertificate); // from default
    }

    [Fact]
    public void AbsentCryptoFields_InheritFromTheDefault_OnePerField()
    {
        var partner = Layered.Evaluate("alice@example.test", "sales@partner.test").Crypto;
        var subs = Layered.Evaluate("alice@example.test", "x@eu.partner.test").Crypto;

        Assert.Equal(new CryptoSettings(ContentEncryption.Aes128Cbc, KeyTransport.RsaOaepSha256, SignatureDigest.Sha512), partner);
        Assert.Equal(new CryptoSettings(ContentEncryption.Aes256Cbc, KeyTransport.RsaOaepSha256, SignatureDigest.Sha384), subs);
    }

    [Fact]
    public void DefaultWithoutCryptoFields_UsesTheClassicAlgorithms()
    {
        var plain = Compile("""
            {
              "default": { "sign": "always", "encrypt": "required", "missingCertificate": "hold" },
              "rules": [ { "name": "r", "recipients": [ "a.test" ], "keyTransport": "rsaOaepSha256" } ]
            }
            """);

        Assert.Equal(new CryptoSettings(ContentEncryption.Aes256Cbc, KeyTransport.RsaPkcs1, SignatureDigest.Sha256), plain.Default.Crypto);
        Assert.Equal(new CryptoSettings(ContentEncryption.Aes256Cbc, KeyTransport.RsaOaepSha256, SignatureDigest.Sha256),
            plain.Evaluate("x@y.test", "b@a.test").Crypto);
    }

    [Fact]
    public void RuleWithSeveralPatterns_MatchesAnyOfThem()
    {
        var snapshot = Compile("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [ { "name": "r", "recipients": [ "a.test", "bob@b.test", "*.c.test" ] } ]
            }
            """);

        Assert.Equal("r", snapshot.Evaluate("s@x.test", "q@a.test").RuleName);
        Assert.Equal("r", snapshot.Evaluate("s@x.test", "bob@b.test").RuleName);
        Assert.Equal("r", snapshot.Evaluate("s@x.test", "q@d.c.test").RuleName);
        Assert.Equal("default", snapshot.Evaluate("s@x.test", "alice@b.test").RuleName);
        Assert.Equal("default", snapshot.Evaluate("s@x.test", "q@c.test").RuleName);
    }

    [Fact]
    public void StarAtDomainRecipients_RequireEncryptionForEveryAddressOfThatDomain()
    {
        var policy = Compile("""
            {
              "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" },
              "rules": [ { "name": "partner", "recipients": [ "*@partner.test" ], "encrypt": "required", "missingCertificate": "hold" } ]
            }
            """);

        var decision = policy.Evaluate("alice@example.test", "bob@partner.test");

        Assert.Equal("partner", decision.RuleName);
        Assert.Equal(EncryptMode.Required, decision.Encrypt);
    }
}
