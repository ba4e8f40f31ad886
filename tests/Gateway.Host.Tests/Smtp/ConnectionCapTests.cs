using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

public sealed class ConnectionCapTests
{
    [Theory]
    [InlineData(1000, 1, 20000L, 1000, false)]   // room enough
    [InlineData(1000, 2, 8192L, 1000, false)]    // contrib/gateway.service, both listeners
    [InlineData(1000, 1, 1024L, 512, true)]      // a shell's usual limit
    [InlineData(1000, 2, 1024L, 256, true)]      // shared by the inbound endpoint
    [InlineData(1000, 1, 300L, 1, true)]         // less than the reserve: one connection, not none
    public void TheCap_IsWhatTheOpenFileLimitLeavesAfterTheReserve_SharedByTheListeners(int configured, int listeners, long limit, int expected, bool lowered)
    {
        Assert.Equal(expected, ConnectionCap.For(configured, listeners, limit, out var wasLowered));
        Assert.Equal(lowered, wasLowered);
    }

    [Fact]
    public void WithoutAKnownLimit_TheSettingStands()
    {
        Assert.Equal(1000, ConnectionCap.For(1000, 2, null, out var lowered));
        Assert.False(lowered);
        Assert.True(ConnectionCap.OpenFileLimit() is > 0, "this Linux process's open-file limit could not be read");
    }
}
