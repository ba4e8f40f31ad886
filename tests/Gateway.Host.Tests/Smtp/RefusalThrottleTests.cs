using System.Net;
using Gateway.Smtp;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Smtp;

public sealed class RefusalThrottleTests
{
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);
    private static readonly ConnectionRefusal TooMany = ConnectionRefusal.TooManyConnections;

    [Fact]
    public void TheFirstRefusalIsWritten_TheRestOfTheMinuteCounted_AndTheCountWrittenWhenTheMinuteIsOver()
    {
        var throttle = new RefusalThrottle(_clock);
        var client = IPAddress.Parse("192.0.2.7");

        Assert.True(throttle.Admit(client, TooMany));
        for (var i = 0; i < 5; i++) Assert.False(throttle.Admit(client, TooMany));
        Assert.True(throttle.Admit(IPAddress.Parse("192.0.2.8"), TooMany)); // another client is its own line
        Assert.True(throttle.Admit(client, ConnectionRefusal.Network)); // and another reason
        Assert.Empty(throttle.Due()); // the minute is not over

        _clock.Advance(RefusalThrottle.Window);
        var due = Assert.Single(throttle.Due());

        Assert.Equal(new RefusalThrottle.LeftOut("192.0.2.7", TooMany, 5), due);
        Assert.Equal("5 more refusals for the same reason within a minute of the last line, not written one by one", RefusalThrottle.Status(5));
        Assert.True(throttle.Admit(client, TooMany)); // a new minute: written again
    }

    [Fact]
    public void AtTheStop_TheCountsOfMinutesNotYetOverAreWritten()
    {
        var throttle = new RefusalThrottle(_clock);
        throttle.Admit(IPAddress.Loopback, TooMany);
        throttle.Admit(IPAddress.Loopback, TooMany);

        Assert.Empty(throttle.Due());
        Assert.Equal(1, Assert.Single(throttle.Due(all: true)).Count);
    }

    [Fact]
    public void ASpreadOfAddresses_IsCountedUnderTheAnyClient_OnceTheTableIsFull()
    {
        var throttle = new RefusalThrottle(_clock);
        var written = 0;
        for (var i = 0; i < RefusalThrottle.MaxTracked + 5000; i++)
        {
            var address = new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);
            if (throttle.Admit(address, TooMany)) written++;
        }
        _clock.Advance(RefusalThrottle.Window);

        // One line per address until the table is full, then a count for all the others together.
        Assert.Equal(RefusalThrottle.MaxTracked, written);
        var others = Assert.Single(throttle.Due(), d => d.Client == RefusalThrottle.AnyClient);
        Assert.Equal(5000, others.Count);
    }
}
