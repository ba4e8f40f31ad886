using System.Text;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

/// <summary>Subject tag and header triggers: who may use them, what they change, and how a bad section is reported.</summary>
public sealed class PolicyTriggerTests
{
    private const string Policy = """
        {
          "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
          "triggers": {
            "subjectTag": "[secure]",
            "header": { "name": "X-Gateway-Encrypt", "value": "yes" },
            "allowedSenders": [ "example.test" ]
          },
          "rules": [
            { "name": "triggered-hold", "senders": [ "boss@example.test" ], "triggered": true, "missingCertificate": "hold" },
            { "name": "partners", "recipients": [ "partner.test" ], "encrypt": "ifPossible" }
          ]
        }
        """;

    private static PolicyCompileResult Compile(string json) => PolicyCompiler.Compile(Encoding.UTF8.GetBytes(json), "policy.json");

    private static PolicySnapshot Snapshot => Compile(Policy).Snapshot!;

    [Theory]
    [InlineData("[secure] figures")]
    [InlineData("Re: [SECURE] figures")]
    [InlineData("figures [Secure]")]
    public void SubjectTag_AnyCaseAnywhere_MakesEncryptionRequired(string subject)
    {
        var answer = Snapshot.Evaluate("alice@example.test", "bob@partner.test", MessageFacts.From(subject, []));

        Assert.Equal("partners", answer.RuleName);
        Assert.Equal(EncryptMode.Required, answer.Encrypt);
        Assert.Equal("subject tag \"[secure]\"", answer.Trigger);
    }

    [Fact]
    public void Header_WithTheConfiguredValue_MakesEncryptionRequired_EvenWhereTheRuleSaysNever()
    {
        var answer = Snapshot.Evaluate("alice@example.test", "dave@elsewhere.test", MessageFacts.From("hi", ["x-gateway-encrypt:  YES "]));

        Assert.Equal(PolicySnapshot.DefaultRuleName, answer.RuleName);
        Assert.Equal(EncryptMode.Required, answer.Encrypt);
        Assert.NotNull(answer.Trigger);
    }

    [Fact]
    public void Header_WithAnotherValue_ChangesNothing()
    {
        var answer = Snapshot.Evaluate("alice@example.test", "dave@elsewhere.test", MessageFacts.From("hi", ["X-Gateway-Encrypt: no"]));

        Assert.Equal(EncryptMode.Never, answer.Encrypt);
        Assert.Null(answer.Trigger);
    }

    [Fact]
    public void SenderNotAllowed_TriggersAreIgnored()
    {
        var answer = Snapshot.Evaluate("mallory@elsewhere.test", "bob@partner.test", MessageFacts.From("[secure]", ["X-Gateway-Encrypt: yes"]));

        Assert.Equal(EncryptMode.IfPossible, answer.Encrypt);
        Assert.Null(answer.Trigger);
    }

    [Fact]
    public void TriggeredRule_MatchesOnlyTriggeredMail()
    {
        var plain = Snapshot.Evaluate("boss@example.test", "bob@partner.test", MessageFacts.From("figures", []));
        var triggered = Snapshot.Evaluate("boss@example.test", "bob@partner.test", MessageFacts.From("[secure] figures", []));

        Assert.Equal("partners", plain.RuleName);
        Assert.Equal("triggered-hold", triggered.RuleName);
        Assert.Equal(MissingCertificateAction.Hold, triggered.MissingCertificate);
        Assert.Equal(EncryptMode.Required, triggered.Encrypt);
    }

    [Fact]
    public void TriggersWithoutAllowedSenders_IsAnError_AtTheSection()
    {
        var result = Compile("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "triggers": { "subjectTag": "[secure]" }
            }
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal((3, 3), (error.Line, error.Column));
        Assert.Contains("allowedSenders", error.Message);
    }

    [Fact]
    public void TriggerHeaderWithoutValue_AndBadSenderPattern_AreBothReported()
    {
        var result = Compile("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "triggers": { "header": { "name": "X-Gateway-Encrypt" }, "allowedSenders": [ "not a domain" ] }
            }
            """);

        Assert.Equal(2, result.Errors.Count);
        Assert.Contains(result.Errors, e => e.Message.Contains("\"value\"", StringComparison.Ordinal) && e.Line == 3);
        Assert.Contains(result.Errors, e => e.Message.Contains("white space", StringComparison.Ordinal) && e.Column == 80);
    }

    [Fact]
    public void TriggeredRule_WithoutTriggersSection_IsAnError()
    {
        var result = Compile("""
            {
              "default": { "sign": "never", "encrypt": "never", "missingCertificate": "refuse" },
              "rules": [ { "name": "t", "triggered": true } ]
            }
            """);

        var error = Assert.Single(result.Errors);
        Assert.Equal(3, error.Line);
        Assert.Contains("\"triggers\"", error.Message);
    }

    [Theory]
    [InlineData("Subject: hello\r\nSubject: [secure] figures\r\n\r\n")]
    [InlineData("not a header line\r\nSubject: [secure] figures\r\n\r\n")]
    [InlineData("Subject: =?utf-8?q?=5Bsecure=5D_Zahlen?=\r\nnot a header line\r\n\r\n")]
    public void SubjectTag_TheStripperWouldRemove_AlsoTriggers(string headerBlock)
    {
        // The stripper reads every Subject field of the raw block; had detection read less, the tag
        // would leave the message and the encryption the sender asked for would not happen.
        var bytes = Encoding.ASCII.GetBytes(headerBlock);
        Assert.NotNull(TriggerStripper.Strip(bytes, Snapshot.Triggers!, removeSubjectTag: true));

        var answer = Snapshot.Evaluate("alice@example.test", "dave@elsewhere.test", MessageFacts.Parse(bytes));

        Assert.Equal(EncryptMode.Required, answer.Encrypt);
        Assert.Equal("subject tag \"[secure]\"", answer.Trigger);
    }
}
