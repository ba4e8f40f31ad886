using System.Net;
using Gateway.Smtp;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Smtp;

public sealed class RefusalThrottleTests
{
    private const string Reason = "too many connections from this client";
    private readonly FakeTimeProvider _clock = new(DateTimeOffset.UtcNow);

    [Fact]
    public void TheFirstRefusalIsWritten_TheRestOfTheMinuteCounted_AndTheCountGoesOnTheNextLine()
    {
        var throttle = new RefusalThrottle(_clock);
        var client = IPAddress.Parse("192.0.2.7");

        Assert.Equal(0, throttle.Admit(client, Reason));
        for (var i = 0; i < 5; i++) Assert.Null(throttle.Admit(client, Reason));
        Assert.Equal(0, throttle.Admit(IPAddress.Parse("192.0.2.8"), Reason)); // another client is its own line
        Assert.Equal(0, throttle.Admit(client, "client network is not in Gateway:Smtp:AllowedNetworks")); // and another reason
        _clock.Advance(RefusalThrottle.Window);

        Assert.Equal(5, throttle.Admit(client, Reason));
        Assert.Equal("5 more refusals for the same reason in the last minute or more, not written", RefusalThrottle.Status(5));
        Assert.Null(RefusalThrottle.Status(0));
    }

    [Fact]
    public void ASpreadOfAddresses_IsCountedPerReason_OnceTheTableIsFull()
    {
        var throttle = new RefusalThrottle(_clock);
        var written = 0;
        for (var i = 0; i < RefusalThrottle.MaxTracked + 5000; i++)
        {
            var address = new IPAddress([10, (byte)(i >> 16), (byte)(i >> 8), (byte)i]);
            if (throttle.Admit(address, Reason) is not null) written++;
        }

        // One line per address until the table is full, then one for all the others together.
        Assert.Equal(RefusalThrottle.MaxTracked + 1, written);
    }
}
