namespace Gateway.Tests.Pipeline;

/// <summary>Durations and counts as people read them in replies and logs (a held copy's expiry said "0 day(s)" for 8 minutes).</summary>
public sealed class CountedTests
{
    [Theory]
    [InlineData("5.00:00:00", "5 days")]
    [InlineData("1.00:00:00", "1 day")]
    [InlineData("1.12:00:00", "36 hours")]
    [InlineData("00:08:00", "8 minutes")]
    [InlineData("00:01:00", "1 minute")]
    [InlineData("00:00:30", "30 seconds")]
    [InlineData("00:01:30", "90 seconds")]
    public void Duration_IsWrittenInItsLargestWholeUnit(string setting, string written) =>
        Assert.Equal(written, Counted.Duration(TimeSpan.Parse(setting, System.Globalization.CultureInfo.InvariantCulture)));
}
