using System.Collections.Concurrent;
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
/// "250 means durable", proven the hard way: the gateway runs as its own process, is SIGKILLed
/// while the upstream is still down, and after a restart every message it acknowledged reaches
/// the upstream. Delivery is at least once: duplicates are counted and reported, losses fail.
/// </summary>
public sealed class CrashRecoveryTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string From = "alice@example.test";
    private const string To = "bob@partner.test";
    private static readonly TimeSpan DeliveryTimeout = TimeSpan.FromSeconds(60);

    private readonly GatewayWorld _world = new();
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];

    // Bound but not listening: connections to the relay port are refused, and no other test's
    // listener can be given the port (FreePort.Next() alone would let a parallel test take it,
    // and then the first gateway would deliver there before the crash).
    private readonly ReservedPort _relay = new();

    public Task InitializeAsync() => Task.CompletedTask;

    public async Task DisposeAsync()
    {
        await _relay.DisposeAsync();
        _world.Dispose();
    }

    /// <summary>The first process must not have delivered anything, or the test proves nothing about recovery.</summary>
    private void AssertNothingWasDeliveredBeforeTheCrash()
    {
        var delivered = File.Exists(_world.AuditPath)
            ? File.ReadLines(_world.AuditPath).Count(l => l.Contains("\"event\":\"delivered\"", StringComparison.Ordinal))
            : 0;
        Assert.True(delivered == 0, $"the gateway delivered {delivered} copies before the crash, although the relay port was closed");
    }

    [Fact]
    public async Task KillRightAfterTheLast250_EveryAcknowledgedMessageIsDeliveredAfterRestart()
    {
        const int connections = 4;
        const int perConnection = 5;
        var (config, smtpPort) = WriteConfig();
        var acknowledged = new List<(string Subject, string SpoolId)>();
        GatewayProcess? first = null;
        GatewayProcess? second = null;
        CapturingSmtpSink? sink = null;
        var clients = new List<SmtpClient>();
        try
        {
            first = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
            for (var c = 0; c < connections; c++)
            {
                var client = new SmtpClient();
                clients.Add(client);
                await client.ConnectAsync("127.0.0.1", smtpPort, SecureSocketOptions.None);
                for (var m = 0; m < perConnection; m++)
                {
                    var subject = Subject(c * perConnection + m);
                    var reply = await client.SendAsync(NewMessage(subject), new MailboxAddress("", From), [new MailboxAddress("", To)]);
                    acknowledged.Add((subject, QueuedReply.Id(reply)));
                }
            }

            // No QUIT, no graceful stop: the process dies right after the last 250.
            first.Kill();
            var queued = QueuedEntries();
            foreach (var client in clients) client.Dispose();

            AssertNothingWasDeliveredBeforeTheCrash();
            sink = await _relay.StartSinkAsync();
            second = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
            var report = await CollectAsync(sink, acknowledged.Select(a => a.Subject).ToList(), second);

            output.WriteLine($"sent with 250: {acknowledged.Count}; spool entries at kill: {queued}; delivered: {report.Delivered.Count} distinct, {report.Total} copies; duplicates: {report.Duplicates}");
            Assert.Equal(connections * perConnection, acknowledged.Count);
            Assert.Equal(acknowledged.Count, acknowledged.Select(a => a.SpoolId).Distinct().Count());
            Assert.True(report.Missing.Count == 0,
                $"{report.Missing.Count} acknowledged messages were lost: {string.Join(", ", report.Missing)}\n" +
                Diagnose(report.Missing.Select(m => acknowledged.First(a => a.Subject == m).SpoolId), first, second));
            Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "corrupt")));
        }
        finally
        {
            foreach (var client in clients) client.Dispose();
            if (first is not null) await first.DisposeAsync();
            if (second is not null) await second.DisposeAsync();
            if (sink is not null) await sink.DisposeAsync();
        }
    }

    /// <summary>
    /// Messages whose first attempt has not ended live only in the accept journal: with the
    /// upstream swallowing connections, every first attempt hangs, so at the kill incoming/ is empty
    /// and the journal holds everything that got a 250. The next start must move it all to incoming/.
    /// </summary>
    [Fact]
    public async Task KillWhileEveryFirstAttemptHangs_JournaledMessagesAreDeliveredAfterRestart()
    {
        const int messages = 12;
        _relay.SwallowConnections();
        var (config, smtpPort) = WriteConfig();
        var acknowledged = new List<(string Subject, string SpoolId)>();
        GatewayProcess? first = null;
        GatewayProcess? second = null;
        CapturingSmtpSink? sink = null;
        try
        {
            first = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
            using (var client = new SmtpClient())
            {
                await client.ConnectAsync("127.0.0.1", smtpPort, SecureSocketOptions.None);
                for (var n = 0; n < messages; n++)
                {
                    var subject = Subject(n);
                    var reply = await client.SendAsync(NewMessage(subject), new MailboxAddress("", From), [new MailboxAddress("", To)]);
                    acknowledged.Add((subject, QueuedReply.Id(reply)));
                }
                first.Kill();
            }
            var inIncoming = QueuedEntries();
            var inJournal = SpooledMessages.All(_world.SpoolPath).Count(m => acknowledged.Any(a => a.SpoolId == m.Id));

            AssertNothingWasDeliveredBeforeTheCrash();
            sink = await _relay.StartSinkAsync();
            second = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
            var report = await CollectAsync(sink, acknowledged.Select(a => a.Subject).ToList(), second);

            output.WriteLine($"sent with 250: {acknowledged.Count}; at kill: {inIncoming} in incoming/, {inJournal} in the journal; " +
                             $"delivered: {report.Delivered.Count} distinct, {report.Total} copies; duplicates: {report.Duplicates}");
            Assert.Equal(0, inIncoming);
            Assert.Equal(messages, inJournal);
            Assert.True(report.Missing.Count == 0,
                $"{report.Missing.Count} acknowledged messages were lost: {string.Join(", ", report.Missing)}\n" +
                Diagnose(report.Missing.Select(m => acknowledged.First(a => a.Subject == m).SpoolId), first, second));
            Assert.Equal(0, report.Duplicates);
            // The recovered segments are deleted; the second process's own, unused, has no records.
            Assert.DoesNotContain(SpooledMessages.Segments(_world.SpoolPath), segment => SpooledMessages.Records(segment).Count > 0);
        }
        finally
        {
            if (first is not null) await first.DisposeAsync();
            if (second is not null) await second.DisposeAsync();
            if (sink is not null) await sink.DisposeAsync();
        }
    }

    [Fact]
    public async Task KillInTheMiddleOfAParallelBurst_EveryAcknowledgedMessageIsDeliveredAfterRestart()
    {
        const int senders = 4;
        // Far more than get through before the kill: on a loaded machine the loop below that waits
        // for killAfter 250s ran late once, after all 4 x 40 had been sent, and nothing was interrupted.
        const int maxPerSender = 1000;
        const int killAfter = 20;
        var (config, smtpPort) = WriteConfig();
        var acknowledged = new ConcurrentDictionary<string, string>();   // subject → spool id
        var unanswered = new ConcurrentDictionary<string, string>();     // subject → what the client saw instead of 250
        var attempted = 0;
        GatewayProcess? first = null;
        GatewayProcess? second = null;
        CapturingSmtpSink? sink = null;
        try
        {
            first = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var burst = Enumerable.Range(0, senders).Select(s => Task.Run(async () =>
            {
                using var client = new SmtpClient();
                try
                {
                    await client.ConnectAsync("127.0.0.1", smtpPort, SecureSocketOptions.None);
                }
                catch (Exception e) when (killed.Task.IsCompleted)
                {
                    return e.GetType().Name;
                }
                for (var m = 0; m < maxPerSender; m++)
                {
                    var subject = Subject(s * 1000 + m);
                    Interlocked.Increment(ref attempted);
                    try
                    {
                        var reply = await client.SendAsync(NewMessage(subject), new MailboxAddress("", From), [new MailboxAddress("", To)]);
                        acknowledged[subject] = QueuedReply.Id(reply);
                    }
                    catch (Exception e) when (e is IOException or MailKit.ServiceNotConnectedException or SmtpProtocolException or SmtpCommandException or ObjectDisposedException)
                    {
                        unanswered[subject] = e.GetType().Name;
                        return e.GetType().Name;
                    }
                }
                return "finished before the kill";
            })).ToList();

            var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(60);
            while (acknowledged.Count < killAfter && DateTime.UtcNow < deadline && burst.Any(t => !t.IsCompleted))
                await Task.Delay(1);
            var stillSending = burst.Count(t => !t.IsCompleted);
            first.Kill();
            killed.SetResult();
            var ends = await Task.WhenAll(burst).WaitAsync(TimeSpan.FromSeconds(30));
            var queued = QueuedEntries();
            var snapshot = acknowledged.ToDictionary();

            AssertNothingWasDeliveredBeforeTheCrash();
            sink = await _relay.StartSinkAsync();
            second = await GatewayProcess.StartAsync(config, smtpPort, _world.Root);
            var report = await CollectAsync(sink, snapshot.Keys.ToList(), second);
            var deliveredUnacknowledged = report.AllSubjects.Keys.Count(s => !snapshot.ContainsKey(s));
            var corrupt = Directory.GetFiles(Path.Combine(_world.SpoolPath, "corrupt")).Length;

            output.WriteLine($"senders: {senders}, still sending at kill: {stillSending}; attempted: {Volatile.Read(ref attempted)}; sent with 250: {snapshot.Count}; " +
                             $"cut off without reply: {unanswered.Count} ({string.Join(", ", ends.GroupBy(e => e).Select(g => $"{g.Key} x{g.Count()}"))})");
            output.WriteLine($"spool entries at kill: {queued}; delivered: {report.Delivered.Count} of the 250'd distinct, {report.Total} copies in all; " +
                             $"duplicates: {report.Duplicates}; delivered without a 250: {deliveredUnacknowledged}; corrupt entries: {corrupt}");
            Assert.True(stillSending > 0, "every sender had finished before the kill: the burst was not interrupted");
            Assert.True(snapshot.Count >= killAfter, $"only {snapshot.Count} messages got 250 before the kill:\n{first.Output}");
            Assert.True(report.Missing.Count == 0,
                $"{report.Missing.Count} of {snapshot.Count} acknowledged messages were lost: {string.Join(", ", report.Missing)}\n" +
                Diagnose(report.Missing.Select(m => snapshot[m]), first, second));
        }
        finally
        {
            if (first is not null) await first.DisposeAsync();
            if (second is not null) await second.DisposeAsync();
            if (sink is not null) await sink.DisposeAsync();
        }
    }

    /// <summary>Settings of the world as appsettings.json with absolute paths; fixed SMTP port, relay to a port where nothing listens yet.</summary>
    private (string Config, int SmtpPort) WriteConfig()
    {
        var smtpPort = FreePort.Next();
        var settings = new Dictionary<string, string?>(_world.Settings)
        {
            ["Gateway:Smtp:Port"] = smtpPort.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:Host"] = "127.0.0.1",
            ["Gateway:Relay:Port"] = _relay.Port.ToString(CultureInfo.InvariantCulture),
            ["Gateway:Relay:TlsMode"] = "None",
            ["Gateway:Relay:Timeout"] = "00:00:10",
            ["Gateway:Spool:FirstRetry"] = "00:00:01",
            ["Gateway:Spool:MaxRetryInterval"] = "00:00:02",
        };
        return (SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), settings), smtpPort);
    }

    /// <summary>What the spool, the audit log and both processes say about the lost spool ids.</summary>
    private string Diagnose(IEnumerable<string> lostIds, GatewayProcess first, GatewayProcess second)
    {
        var ids = lostIds.ToList();
        var files = Directory.EnumerateFiles(_world.SpoolPath, "*", SearchOption.AllDirectories)
            .Where(f => ids.Any(id => f.Contains(id, StringComparison.Ordinal)))
            .Select(f => Path.GetRelativePath(_world.SpoolPath, f));
        var audit = File.Exists(_world.AuditPath)
            ? File.ReadLines(_world.AuditPath).Where(l => ids.Any(id => l.Contains(id, StringComparison.Ordinal)))
            : [];
        bool Mentions(string line) => ids.Any(id => line.Contains(id, StringComparison.Ordinal)) || line.Contains("fail", StringComparison.OrdinalIgnoreCase) || line.Contains("corrupt", StringComparison.OrdinalIgnoreCase);
        return $"lost spool ids: {string.Join(", ", ids)}\nspool files naming them: {string.Join(", ", files)}\n" +
               $"audit lines naming them:\n{string.Join("\n", audit)}\n" +
               $"first process, relevant lines:\n{string.Join("\n", first.Output.Split('\n').Where(Mentions).Take(40))}\n" +
               $"second process, relevant lines:\n{string.Join("\n", second.Output.Split('\n').Where(Mentions).Take(40))}";
    }

    private string Subject(int n) => $"crash-{_run}-{n:D4}";

    private static MimeMessage NewMessage(string subject)
    {
        var message = RunningGateway.NewMessage(From, To, subject, $"Body of {subject}.\r\n");
        message.Headers.Add("X-Crash-Test", subject);
        return message;
    }

    private int QueuedEntries()
    {
        var incoming = Path.Combine(_world.SpoolPath, "incoming");
        return Directory.Exists(incoming) ? Directory.GetFiles(incoming, "*.json").Length : 0;
    }

    /// <summary>Waits until every expected subject arrived (or the timeout), then lets the spool drain to count late duplicates.</summary>
    private async Task<DeliveryReport> CollectAsync(CapturingSmtpSink sink, IReadOnlyList<string> expected, GatewayProcess gateway)
    {
        var deadline = DateTime.UtcNow + DeliveryTimeout;
        Dictionary<string, int> subjects;
        while (true)
        {
            subjects = sink.Messages.GroupBy(m => m.Parse().Subject ?? "").ToDictionary(g => g.Key, g => g.Count());
            if (expected.All(subjects.ContainsKey) || DateTime.UtcNow >= deadline || gateway.HasExited) break;
            await Task.Delay(100);
        }
        while (QueuedEntries() > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        await Task.Delay(500);
        var copies = sink.Messages;
        subjects = copies.GroupBy(m => m.Parse().Subject ?? "").ToDictionary(g => g.Key, g => g.Count());
        return new DeliveryReport(
            subjects,
            expected.Where(subjects.ContainsKey).ToList(),
            expected.Where(s => !subjects.ContainsKey(s)).ToList(),
            copies.Count,
            subjects.Values.Sum(n => n - 1));
    }

    private sealed record DeliveryReport(IReadOnlyDictionary<string, int> AllSubjects, IReadOnlyList<string> Delivered, IReadOnlyList<string> Missing, int Total, int Duplicates);
}
