using System.Text;
using Gateway.Policy;

namespace Gateway.Tests.Policy;

/// <summary>A policy value or key of the wrong kind is answered with what belongs there, in the policy's own words.</summary>
public sealed class PolicyErrorMessageTests
{
    private const string Default = """ "default": { "sign": "ifPossible", "encrypt": "ifPossible", "missingCertificate": "refuse" } """;

    private static string SingleError(string json)
    {
        var result = PolicyCompiler.Compile(Encoding.UTF8.GetBytes(json), "policy.json");
        Assert.False(result.Succeeded);
        return Assert.Single(result.Errors).Message;
    }

    [Fact]
    public void StringWhereAListBelongs_SaysItMustBeAList()
    {
        var message = SingleError("{" + Default + """, "rules": [ { "name": "a", "senders": ["example.test"], "recipients": "partner.test" } ] }""");
        Assert.Equal("invalid value at $.rules[0].recipients: must be a list, also for one entry: \"recipients\": [\"example.com\"]", message);
    }

    [Fact]
    public void KeyDifferingOnlyInCase_SaysKeysAreCaseSensitive_AndNamesTheRightOne()
    {
        var message = SingleError("{" + Default + """, "rules": [ { "name": "a", "senders": ["example.test"], "Recipients": ["partner.test"] } ] }""");
        Assert.Equal("unknown key at $.rules[0].Recipients: keys are case-sensitive, write \"recipients\"", message);
    }

    [Fact]
    public void MisspeltKey_ListsTheKeysKnownThere()
    {
        var message = SingleError("{" + Default + """, "rules": [ { "name": "a", "sing": "always" } ] }""");
        Assert.StartsWith("unknown key at $.rules[0].sing (known here: ", message);
        Assert.Contains(" sign,", message);
    }

    [Fact]
    public void BadEnumValue_ListsTheAllowedValues()
    {
        var message = SingleError("""{ "default": { "sign": "ifPossible", "encrypt": "maybe", "missingCertificate": "refuse" } }""");
        Assert.Equal("invalid value at $.default.encrypt: must be one of \"required\", \"ifPossible\", \"never\"", message);
    }

    [Fact]
    public void ObjectWhereAListOfRulesBelongs_SaysItMustBeAList()
    {
        var message = SingleError("{" + Default + """, "rules": { "name": "a" } }""");
        Assert.Equal("invalid value at $.rules: must be a list of objects: \"rules\": [ { ... } ]", message);
    }
}
