using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Smtp;

namespace Gateway.Tests.Smtp;

public sealed class ConnectionCapTests
{
    [Theory]
    [InlineData(1000, 1, 0, 20000L, 1000, false)]   // room enough
    [InlineData(1000, 2, 0, 8192L, 1000, false)]    // contrib/gateway.service, both listeners
    [InlineData(1000, 1, 0, 1024L, 512, true)]      // a shell's usual limit
    [InlineData(1000, 2, 0, 1024L, 256, true)]      // shared by the inbound endpoint
    [InlineData(1000, 1, 0, 300L, 1, true)]         // less than the reserve: one connection, not none
    [InlineData(1000, 1, 784, 2048L, 752, true)]    // Relay:MaxConnections 256 and its 256 workers on 2 cores
    [InlineData(1000, 2, 784, 1024L, 1, true)]      // delivery does not fit: one each, and `gateway run` refuses
    public void TheCap_IsWhatTheOpenFileLimitLeavesAfterDeliveryAndTheReserve_SharedByTheListeners(int configured, int listeners, int delivery, long limit, int expected, bool lowered)
    {
        Assert.Equal(expected, ConnectionCap.For(configured, listeners, delivery, limit, out var wasLowered));
        Assert.Equal(lowered, wasLowered);
    }

    [Fact]
    public void WithoutAKnownLimit_TheSettingStands()
    {
        Assert.Equal(1000, ConnectionCap.For(1000, 2, 784, null, out var lowered));
        Assert.False(lowered);
        Assert.True(ConnectionCap.OpenFileLimit() is > 0, "this Linux process's open-file limit could not be read");
    }

    [Fact]
    public void Delivery_CountsEveryUpstreamConnection_TwoFilesPerWorker_AndFourPerCopyBeingMade()
    {
        var options = new GatewayOptions
        {
            Relay = new RelayOptions { MaxConnections = 256 },
            Spool = new SpoolOptions { MaxConcurrentTransforms = 4 },
        };

        // The workers follow the connections (256); each copy being made has four intermediate ones in spool/work at most.
        Assert.Equal(256 + 2 * 256 + 4 * 4, DeliveryDescriptors.For(options));
    }
}
