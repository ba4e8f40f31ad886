using Gateway.Relay;

namespace Gateway.Tests.Relay;

/// <summary>
/// Envelope addresses that MimeKit's strict parser refuses still go out when they can be written,
/// and one that cannot be written is a clear permanent failure instead of an endless retry.
/// (SmtpServer itself refuses such addresses in MAIL FROM today, with "502 5.5.2 Syntax error, command unrecognized";
/// the relay must not depend on that.)
/// </summary>
public sealed class UnusualAddressTests
{
    [Theory]
    [InlineData("first..last@example.test")]
    [InlineData("\"odd local\"@example.test")]
    [InlineData("user@[127.0.0.1]")]
    public void AddressesTheStrictParserRefuses_CanStillBeRelayed(string address) =>
        Assert.Equal(address, EnvelopeMailbox.TryCreate(address)?.Address);

    [Theory]
    [InlineData("a(b@example.test")]
    [InlineData("a@b@example.test")]
    public void AddressesNoParserCanWrite_AreReportedAsUnaddressable(string address) =>
        Assert.Null(EnvelopeMailbox.TryCreate(address));

    [Fact]
    public void TheNullSender_IsKeptEmpty() =>
        Assert.Equal(string.Empty, EnvelopeMailbox.TryCreate(string.Empty)!.Address);
}
