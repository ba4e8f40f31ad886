using Gateway.Spool;

namespace Gateway.Tests.Spool;

/// <summary>ENVID and RET from MAIL FROM (RFC 3461 §4.3, §4.4): kept only when well formed.</summary>
public sealed class DsnParametersTests
{
    [Theory]
    [InlineData("RET", "hdrs", null, "HDRS")]
    [InlineData("ENVID", "QQ+2Bid-42", "QQ+2Bid-42", null)]
    [InlineData("ENVID", "x+0D+0AReporting-MTA:+20evil", null, null)] // decodes to a line break
    [InlineData("ENVID", "a=b", null, null)]
    [InlineData("ENVID", "a+2b", null, null)] // xtext hex is upper case
    [InlineData("ENVID", "a+", null, null)]
    [InlineData("RET", "BODY", null, null)]
    public void KeepsOnlyWellFormedValues(string key, string value, string? envelopeId, string? ret)
    {
        var dsn = DsnParameters.From(new Dictionary<string, string> { [key] = value });

        Assert.Equal(envelopeId, dsn?.EnvelopeId);
        Assert.Equal(ret, dsn?.Return);
    }

    [Fact]
    public void AnEnvidOverOneHundredCharacters_IsNotKept() =>
        Assert.Null(DsnParameters.From(new Dictionary<string, string> { ["ENVID"] = new string('e', 101) }));
}
