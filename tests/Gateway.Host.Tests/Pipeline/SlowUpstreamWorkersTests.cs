using System.Diagnostics;
using System.Text;
using Gateway.Testing.Smtp;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// An upstream that sits on the end of some copies' data (a content filter that hangs on them):
/// with the default settings, other mail still goes out over the connections left, instead of
/// waiting behind the workers that hold those copies.
/// </summary>
public sealed class SlowUpstreamWorkersTests : IDisposable
{
    /// <summary>The old default number of workers: 2 per core.</summary>
    private static readonly int HeldCopies = Math.Max(2, Environment.ProcessorCount * 2);

    private readonly GatewayWorld _world = new();

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task CopiesTheUpstreamSitsOn_DoNotHoldUpOtherMail_WithTheDefaultWorkers()
    {
        var release = new ManualResetEventSlim();
        await using var sink = await CapturingSmtpSink.StartAsync();
        sink.OnData = message =>
        {
            // As many copies as the machine had workers by default before (2 per core).
            if (Encoding.ASCII.GetString(message.Data).Contains("Subject: held by the filter", StringComparison.Ordinal)) release.Wait(TimeSpan.FromSeconds(30));
            return null;
        };
        _world.Settings.Remove("Gateway:Relay:Outbox");
        _world.RelayTo(sink.Port);
        // Connections to spare beyond the held copies, however many cores: the workers are what is tested.
        _world.Settings["Gateway:Relay:MaxConnections"] = (HeldCopies + 2).ToString(System.Globalization.CultureInfo.InvariantCulture);
        await using var gateway = await RunningGateway.StartAsync(_world);
        try
        {
            for (var i = 0; i < HeldCopies; i++)
                await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", $"slow{i}@elsewhere.test", "held by the filter"), "alice@example.test", $"slow{i}@elsewhere.test");
            var clock = Stopwatch.StartNew();
            await gateway.SendAsync(RunningGateway.NewMessage("alice@example.test", "dave@elsewhere.test", "other mail"), "alice@example.test", "dave@elsewhere.test");

            await gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "delivered", "dave@elsewhere.test"), TimeSpan.FromSeconds(10));
            Assert.True(clock.Elapsed < TimeSpan.FromSeconds(10), $"other mail waited {clock.Elapsed} behind copies the upstream sat on");
        }
        finally
        {
            release.Set();
        }
    }
}
