using System.Buffers;
using System.Globalization;
using System.Text;
using Gateway.Configuration;
using Gateway.Pipeline;
using Gateway.Relay;
using Gateway.Spool;
using Gateway.Tests.Fixtures;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Pipeline;

/// <summary>
/// Many workers (Spool:Workers follows Relay:MaxConnections, up to 256) but few copies made at once
/// (Spool:MaxConcurrentTransforms, 2 per core): a burst of messages to sign and encrypt, one per
/// worker, with an upstream that sits on every copy until it holds them all, makes at most that
/// many at a time, and the workers waiting for the upstream hold no slot and no intermediate copy.
/// </summary>
public sealed class TransformLimitTests : IDisposable
{
    private const int MostWorkers = 128;
    private readonly GatewayWorld _world = new();
    private readonly (int Workers, int Io) _minThreads;

    /// <summary>
    /// With threads for every worker, as a busy gateway's pool has: making a copy is synchronous, and
    /// on a thread pool of two threads the workers would take turns whatever the limit.
    /// </summary>
    public TransformLimitTests()
    {
        ThreadPool.GetMinThreads(out var threads, out var io);
        _minThreads = (threads, io);
        ThreadPool.SetMinThreads(Math.Max(threads, MostWorkers + 16), io);
    }

    public void Dispose()
    {
        ThreadPool.SetMinThreads(_minThreads.Workers, _minThreads.Io);
        _world.Dispose();
    }

    [Fact]
    public async Task ABurstOfLargeMessages_MakesNoMoreCopiesAtOnceThanTheLimit_WhileTheUpstreamSitsOnEveryCopy()
    {
        // Over 1 MiB: each copy and its intermediate copies are files in spool/work, reused, so the
        // files there after the burst are the most that were open at once.
        const int workers = 64;
        var transforms = await SpoolBurstAsync(workers, 1200 * 1024);
        var relay = new HoldingRelay(workers, TimeSpan.FromSeconds(60));

        await using (var gateway = await RunningGateway.StartAsync(_world, services => services.AddSingleton<IRelay>(relay)))
            await WaitForDeliveriesAsync(gateway, workers);

        Assert.Equal(workers, relay.MostHeldAtOnce);
        var files = Directory.GetFiles(Path.Combine(_world.SpoolPath, "work"), "work-*").Length;
        // The 64 copies the upstream held, and four intermediate ones at most per copy being made.
        Assert.True(files - workers <= WorkFiles.PerTransform * transforms,
            $"{files} files in spool/work were open at once: {files - workers} besides the {workers} copies the upstream held, for at most {transforms} copies made at once");
    }

    [Fact]
    public async Task ABurstOfSmallMessages_LendsAndKeepsBoundedMemory_WhileTheUpstreamSitsOnEveryCopy()
    {
        // Up to 1 MiB: copies in pooled memory while the pool has room, then in spool/work.
        const int workers = MostWorkers;
        var transforms = await SpoolBurstAsync(workers, 900 * 1024);
        CopyBuffers? buffers = null;
        long lentWhileHeld = 0;
        var relay = new HoldingRelay(workers, TimeSpan.FromSeconds(60), whileHeld: _ => lentWhileHeld = buffers!.Lent);

        await using (var gateway = await RunningGateway.StartAsync(_world, services => services.AddSingleton<IRelay>(relay)))
        {
            buffers = gateway.Services.GetRequiredService<CopyBuffers>();
            await WaitForDeliveriesAsync(gateway, workers);
            Assert.Equal(workers, relay.MostHeldAtOnce);
            // A copy is made in memory only while the pool has room for it; those under way when the last one was may grow by their encoding (1.4 MiB at most each).
            Assert.True(lentWhileHeld <= buffers.LentAtMost + transforms * 2 * 1024 * 1024,
                $"the upstream held copies taking {lentWhileHeld / 1048576.0:F1} MiB of pooled memory, bound {buffers.LentAtMost / 1048576.0:F1} MiB");
            Assert.True(buffers.Kept <= buffers.KeptAtMost,
                $"after the burst the pool keeps {buffers.Kept / 1048576.0:F1} MiB, bound {buffers.KeptAtMost / 1048576.0:F1} MiB");
        }
    }

    /// <summary>Queues the burst before the gateway starts, so its recovery hands all of it to the workers at once.</summary>
    /// <returns>The copies the gateway makes at once by default with that many workers.</returns>
    private async Task<int> SpoolBurstAsync(int workers, int size)
    {
        _world.Settings["Gateway:Spool:Workers"] = workers.ToString(CultureInfo.InvariantCulture);
        var spool = new FileSpool(Options.Create(new GatewayOptions { Spool = new SpoolOptions { Path = _world.SpoolPath } }), TimeProvider.System, NullLogger<FileSpool>.Instance);
        spool.EnsureFolders();
        var line = new string('x', 76) + "\r\n";
        var body = new StringBuilder().Insert(0, line, size / line.Length).ToString();
        for (var i = 0; i < workers; i++)
        {
            var message = Encoding.ASCII.GetBytes($"From: <alice@example.test>\r\nTo: <bob@partner.test>\r\nSubject: burst {i}\r\nMessage-ID: <burst{i}@example.test>\r\n\r\n{body}");
            await spool.AcceptAsync(new ReadOnlySequence<byte>(message), "alice@example.test", ["bob@partner.test"], "127.0.0.1", "client.example.test", null, null, CancellationToken.None);
        }
        return Math.Min(2 * Environment.ProcessorCount, workers);
    }

    private static async Task WaitForDeliveriesAsync(RunningGateway gateway, int count)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(120);
        while (gateway.AuditEvents().Count(e => RunningGateway.Is(e, "delivered")) < count)
        {
            Assert.True(DateTime.UtcNow < deadline, "the burst was not delivered within 120 s");
            await Task.Delay(100);
        }
    }
}
