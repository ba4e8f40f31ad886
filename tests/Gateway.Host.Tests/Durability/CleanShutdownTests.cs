using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Gateway.Testing;
using Gateway.Testing.Smtp;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;
using MailKit.Net.Smtp;
using MailKit.Security;
using MimeKit;
using Xunit.Abstractions;

namespace Gateway.Tests.Durability;

/// <summary>
/// SIGTERM in the middle of a burst, with a slow upstream so deliveries are in flight: the
/// gateway stops accepting, lets the attempts finish within Spool:ShutdownTimeout, exits 0 and
/// leaves the rest queued, whole; after a restart every message that got 250 is delivered.
/// </summary>
public sealed class CleanShutdownTests(ITestOutputHelper output) : IDisposable
{
    private const string From = "alice@example.test";
    private const string To = "bob@partner.test";
    private readonly GatewayWorld _world = new();
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    public void Dispose() => _world.Dispose();

    [Fact]
    public async Task SigtermDuringABurst_ExitsZero_LeavesWholeEntries_AndEverything250dIsDeliveredAfterRestart()
    {
        const int senders = 4;
        const int maxPerSender = 40;
        const int stopAfter = 20;
        var sink = await CapturingSmtpSink.StartAsync();
        var slow = true;
        sink.OnData = _ =>
        {
            if (Volatile.Read(ref slow)) Thread.Sleep(300); // attempts are in flight when SIGTERM comes
            return null;
        };
        var smtpPort = FreePort.Next();
        var settings = new Dictionary<string, string?>(_world.Settings)
        {
            ["Gateway:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:Host"] = "127.0.0.1",
            ["Gateway:Relay:Port"] = sink.Port.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:TlsMode"] = "None",
            ["Gateway:Spool:Workers"] = "2",
            ["Gateway:Spool:ShutdownTimeout"] = "00:00:06",
        };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);
        var acknowledged = new ConcurrentDictionary<string, string>();
        GatewayProcess? first = null, second = null;
        try
        {
            first = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
            var stopped = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var burst = Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
            {
                using var client = new SmtpClient();
                await client.ConnectAsync("127.0.0.1", smtpPort, SecureSocketOptions.None);
                for (var m = 0; m < maxPerSender; m++)
                {
                    var subject = $"stop-{_run}-{s * 1000 + m:D4}";
                    try
                    {
                        var reply = await client.SendAsync(RunningGateway.NewMessage(From, To, subject), new MailboxAddress("", From), [new MailboxAddress("", To)]);
                        acknowledged[subject] = QueuedReply.Id(reply);
                    }
                    catch (Exception e) when (stopped.Task.IsCompleted && e is IOException or MailKit.ServiceNotConnectedException or SmtpProtocolException or SmtpCommandException)
                    {
                        return;
                    }
                }
            })).ToList();
            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (acknowledged.Count < stopAfter && DateTime.UtcNow < deadline) await Task.Delay(5);
            var deliveredBefore = sink.Messages.Count;

            var clock = Stopwatch.StartNew();
            stopped.SetResult();
            var exitCode = await first.SignalAndWaitAsync(15, TimeSpan.FromSeconds(60));
            var stopTime = clock.Elapsed;
            await Task.WhenAll(burst).WaitAsync(TimeSpan.FromSeconds(30));
            var snapshot = acknowledged.ToDictionary();
            var deliveredAtExit = sink.Messages.Count;
            var incoming = Path.Combine(_world.SpoolPath, "incoming");
            var emls = Directory.GetFiles(incoming, "*.eml").Select(Path.GetFileNameWithoutExtension).ToList();
            var jsons = Directory.GetFiles(incoming, "*.json").Select(Path.GetFileNameWithoutExtension).ToList();
            var temporaries = Directory.GetFiles(incoming, "*.tmp");

            Assert.True(exitCode == 0, $"exit code {exitCode} after SIGTERM:\n{first.Output}");
            Assert.Equal(emls.Order(), jsons.Order());
            Assert.Empty(temporaries);
            Assert.Contains("stopped accepting", first.Output);
            Assert.True(deliveredAtExit > deliveredBefore, "no attempt in flight at SIGTERM was let finish");

            Volatile.Write(ref slow, false);
            second = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
            deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            Dictionary<string, int> subjects;
            while (true)
            {
                subjects = sink.Messages.GroupBy(m => m.Parse().Subject ?? "").ToDictionary(g => g.Key, g => g.Count());
                if (snapshot.Keys.All(subjects.ContainsKey) || DateTime.UtcNow > deadline) break;
                await Task.Delay(100);
            }
            while (Directory.GetFiles(incoming, "*.json").Length > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
            subjects = sink.Messages.GroupBy(m => m.Parse().Subject ?? "").ToDictionary(g => g.Key, g => g.Count());
            var missing = snapshot.Keys.Where(s => !subjects.ContainsKey(s)).ToList();
            var duplicates = subjects.Values.Sum(n => n - 1);
            output.WriteLine($"sent with 250: {snapshot.Count}; delivered before SIGTERM: {deliveredBefore}, at exit: {deliveredAtExit}; " +
                             $"left queued (whole entries): {jsons.Count}; stop took {stopTime.TotalSeconds:0.0} s, exit code {exitCode}");
            output.WriteLine($"after restart: {snapshot.Count - missing.Count} of {snapshot.Count} delivered, duplicates: {duplicates}, " +
                             $"delivered without a 250: {subjects.Keys.Count(s => !snapshot.ContainsKey(s))}");
            Assert.True(missing.Count == 0, $"{missing.Count} acknowledged messages lost: {string.Join(", ", missing)}\n{second.Output}");
            Assert.True(stopTime < TimeSpan.FromSeconds(6 + 2 + 10), $"the stop took {stopTime}");
        }
        finally
        {
            if (first is not null) await first.DisposeAsync();
            if (second is not null) await second.DisposeAsync();
            await sink.DisposeAsync();
        }
    }

    /// <summary>
    /// A clean stop leaves a spool of files only: messages still waiting in the accept journal for
    /// their first attempt (one worker, its attempt hanging on an upstream that never answers) are
    /// moved to incoming/, so `gateway queue` sees them and a version without the journal reads them.
    /// </summary>
    [Fact]
    public async Task Sigterm_MovesMessagesWaitingInTheJournal_ToIncoming()
    {
        await using var upstream = new ReservedPort();
        upstream.SwallowConnections();
        var smtpPort = FreePort.Next();
        var settings = new Dictionary<string, string?>(_world.Settings)
        {
            ["Gateway:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:Host"] = "127.0.0.1",
            ["Gateway:Relay:Port"] = upstream.Port.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:TlsMode"] = "None",
            ["Gateway:Relay:Timeout"] = "00:00:30",
            ["Gateway:Spool:Workers"] = "1",
            ["Gateway:Spool:ShutdownTimeout"] = "00:00:01",
        };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);
        var acknowledged = new List<string>();
        await using (var gateway = await GatewayProcess.StartAsync(config, smtpPort, _world.Root))
        {
            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", smtpPort, SecureSocketOptions.None);
                for (var n = 0; n < 5; n++)
                {
                    var reply = await client.SendAsync(RunningGateway.NewMessage(From, To, $"waiting-{_run}-{n}"), new MailboxAddress("", From), [new MailboxAddress("", To)]);
                    acknowledged.Add(QueuedReply.Id(reply));
                }
                await client.DisconnectAsync(quit: true);
            }
            var inJournal = SpooledMessages.All(_world.SpoolPath).Count(m => acknowledged.Contains(m.Id));
            Assert.Equal(5, inJournal);

            var exitCode = await gateway.SignalAndWaitAsync(15, TimeSpan.FromSeconds(60));
            Assert.True(exitCode == 0, $"exit code {exitCode}:\n{gateway.Output}");
        }

        var incoming = Directory.GetFiles(Path.Combine(_world.SpoolPath, "incoming"), "*.json").Select(Path.GetFileNameWithoutExtension).Order().ToList();
        Assert.Equal(acknowledged.Order(), incoming);
        var records = SpooledMessages.Segments(_world.SpoolPath).SelectMany(SpooledMessages.Records).ToList();
        var unfinished = records.Count(r => r.Kind == Gateway.Spool.JournalRecord.Accepted) - records.Count(r => r.Kind == Gateway.Spool.JournalRecord.Done);
        Assert.Equal(0, unfinished);
    }

    [Theory]
    [InlineData(2)]   // SIGINT, what Ctrl-C sends
    [InlineData(15)]  // SIGTERM
    public async Task Signal_WhileIdle_StopsTheGatewayWithExitCodeZero(int signal)
    {
        var smtpPort = FreePort.Next();
        var settings = new Dictionary<string, string?>(_world.Settings) { ["Gateway:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture) };
        var config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings);
        await using var gateway = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);

        var exitCode = await gateway.SignalAndWaitAsync(signal, TimeSpan.FromSeconds(30));

        Assert.True(exitCode == 0, $"exit code {exitCode} after signal {signal}:\n{gateway.Output}");
    }
}
