using System.Text.Json;
using Gateway.Spool;
using Gateway.Testing;
using Gateway.Tests.Configuration;
using Gateway.Tests.Fixtures;
using SmtpServer.Protocol;

namespace Gateway.Tests.Cli;

/// <summary>
/// <c>gateway queue</c> against a live gateway: the CLI runs as its own process on the running
/// gateway's spool, the upstream is down (or slow) so entries stay queued, and every change must
/// take effect at once, be audited, and never corrupt an entry a worker is processing.
/// </summary>
public sealed class QueueCommandTests : IAsyncLifetime
{
    private const string Alice = "alice@example.test";
    private const string Bob = "bob@partner.test";
    private const string Carol = "carol@partner.test";
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(30);

    private readonly GatewayWorld _world = new();
    private readonly ReservedPort _upstream = new();
    private RunningGateway _gateway = null!;
    private string _config = null!;

    public async Task InitializeAsync()
    {
        _world.RelayTo(_upstream.Port);
        // Deferred entries would wait an hour: only the queue tools can make them go sooner.
        _world.Settings["Gateway:Spool:FirstRetry"] = "01:00:00";
        _world.Settings["Gateway:Spool:MaxRetryInterval"] = "01:00:00";
        _world.Settings["Gateway:Relay:Timeout"] = "00:00:10";
        _config = SettingsFile.Write(Path.Combine(_world.Root, "appsettings.json"), _world.Settings);
        _gateway = await RunningGateway.StartAsync(_world);
    }

    public async Task DisposeAsync()
    {
        await _gateway.DisposeAsync();
        await _upstream.DisposeAsync();
        _world.Dispose();
    }

    private Task<GatewayCli.Result> Queue(params string[] arguments) =>
        GatewayCli.RunAsync(_world.Root, ["queue", .. arguments, "--config", _config]);

    /// <summary>Sends one message and waits until its first attempt deferred it (the upstream is down).</summary>
    private async Task<string> QueueDeferredAsync(string subject, params string[] to)
    {
        var reply = await _gateway.SendAsync(RunningGateway.NewMessage(Alice, to[0], subject, $"secret body of {subject}\r\n"), Alice, to);
        var id = QueuedReply.Id(reply);
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred") && e.GetProperty("spoolId").GetString() == id, Wait);
        // The attempt ends by moving the entry from the accept journal to incoming/, just after that audit line.
        var envelope = Path.Combine(_world.SpoolPath, "incoming", id + ".json");
        var deadline = DateTime.UtcNow + Wait;
        while (!File.Exists(envelope) && DateTime.UtcNow < deadline) await Task.Delay(20);
        return id;
    }

    private bool Audited(string name, string id) =>
        _gateway.AuditEvents().Any(e => RunningGateway.Is(e, name) && e.GetProperty("spoolId").GetString() == id);

    [Fact]
    public async Task List_ShowsMessagesStillInTheAcceptJournal_AsInTheirFirstAttempt()
    {
        // A journal written beside the running gateway's, as a gateway that stopped would leave it.
        var options = Microsoft.Extensions.Options.Options.Create(new Gateway.Configuration.GatewayOptions
        {
            Spool = new Gateway.Configuration.SpoolOptions { Path = _world.SpoolPath },
        });
        var spool = new FileSpool(options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<FileSpool>.Instance);
        using var journal = new AcceptJournal(spool, new Gateway.Pipeline.CopyBuffers(1), options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<AcceptJournal>.Instance)
        {
            SegmentSize = 1024 * 1024,
        };
        var data = new System.Buffers.ReadOnlySequence<byte>("Subject: in flight\r\n\r\nbody"u8.ToArray());
        var inFlight = await journal.AcceptAsync(data, Alice, [Bob], "127.0.0.1", null, null, null, CancellationToken.None);
        var done = await journal.AcceptAsync(data, Alice, [Carol], "127.0.0.1", null, null, null, CancellationToken.None);
        journal.Complete(journal.Find(done.Id)!);

        var json = await Queue("list", "--json");
        var table = await Queue("list");

        Assert.True(json.ExitCode == 0, json.ToString());
        var entry = Assert.Single(JsonDocument.Parse(json.Output).RootElement.EnumerateArray());
        Assert.Equal(inFlight.Id, entry.GetProperty("id").GetString());
        Assert.Equal("journal", entry.GetProperty("queue").GetString());
        Assert.Contains("first attempt", table.Output);
        Assert.Contains("1 in their first attempt", table.Output);
        var show = await Queue("show", inFlight.Id);
        Assert.Equal(1, show.ExitCode);
        Assert.Contains("in its first attempt", show.ToString());
    }

    [Fact]
    public async Task List_ShowsTheLiveEntry_WithEachRecipientsState_AndTheNextAttempt()
    {
        var id = await QueueDeferredAsync("list me", Bob, Carol);

        var json = await Queue("list", "--json");
        var table = await Queue("list");

        Assert.True(json.ExitCode == 0, json.ToString());
        var entry = Assert.Single(JsonDocument.Parse(json.Output).RootElement.EnumerateArray());
        Assert.Equal(id, entry.GetProperty("id").GetString());
        Assert.Equal("incoming", entry.GetProperty("queue").GetString());
        Assert.Equal(Alice, entry.GetProperty("sender").GetString());
        Assert.True(entry.GetProperty("nextAttempt").GetDateTimeOffset() > DateTimeOffset.UtcNow.AddMinutes(30));
        var recipients = entry.GetProperty("recipients").EnumerateArray().ToList();
        Assert.Equal([Bob, Carol], recipients.Select(r => r.GetProperty("address").GetString()));
        Assert.All(recipients, r => Assert.Equal("deferred", r.GetProperty("status").GetString()));
        Assert.All(recipients, r => Assert.StartsWith("451", r.GetProperty("reply").GetString()));
        Assert.True(table.ExitCode == 0, table.ToString());
        Assert.Contains(id, table.Output);
        Assert.Contains($"{Bob} (deferred)", table.Output);
    }

    [Fact]
    public async Task Show_PrintsEnvelopeAndHeaders_AndTheBodyOnlyWithBody()
    {
        var id = await QueueDeferredAsync("show me", Bob);

        var show = await Queue("show", id);
        var withBody = await Queue("show", id, "--body");
        var unknown = await Queue("show", "../../etc/passwd");

        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("\"mailFrom\": \"alice@example.test\"", show.Output);
        Assert.Contains("Subject: show me", show.Output);
        Assert.DoesNotContain("secret body", show.Output);
        Assert.Contains("secret body of show me", withBody.Output);
        Assert.Equal(2, unknown.ExitCode);
        Assert.Contains("is not a queue id", unknown.Error);
    }

    [Fact]
    public async Task List_WithAnUnreadableEnvelope_ListsTheOthers_AndNamesTheBadFileWithTheReason()
    {
        var id = await QueueDeferredAsync("listed beside a bad one", Bob);
        var bad = WriteUnreadableHoldCopy();

        var table = await Queue("list");
        var json = await Queue("list", "--json");

        foreach (var result in new[] { table, json })
        {
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains(id, result.Output);
            Assert.Contains(Path.Combine("hold", bad + ".json"), result.Error);
            Assert.Contains("unreadable", result.Error);
            Assert.DoesNotContain("   at ", result.Error); // no stack trace
        }
        Assert.Single(JsonDocument.Parse(json.Output).RootElement.EnumerateArray());
    }

    [Fact]
    public async Task Show_OfAnUnreadableEnvelope_OrOfAnEntryWithoutItsContent_SaysWhichFile_WithoutAStackTrace()
    {
        var bad = WriteUnreadableHoldCopy();
        var id = await QueueDeferredAsync("content gone", Bob);
        File.Delete(Path.Combine(_world.SpoolPath, "incoming", id + ".eml"));

        var unreadable = await Queue("show", bad);
        var withoutContent = await Queue("show", id);

        Assert.True(unreadable.ExitCode == 1, unreadable.ToString());
        Assert.Contains(Path.Combine("hold", bad + ".json"), unreadable.Error);
        Assert.DoesNotContain("   at ", unreadable.Error);
        Assert.True(withoutContent.ExitCode == 1, withoutContent.ToString());
        Assert.Contains("\"mailFrom\": \"alice@example.test\"", withoutContent.Output); // the envelope is still shown
        Assert.Contains(Path.Combine("incoming", id + ".eml"), withoutContent.Error);
        Assert.DoesNotContain("   at ", withoutContent.Error);
    }

    [Fact]
    public async Task ReleaseOfAnUnreadableHeldEnvelope_SaysWhichFile_AndDeleteRemovesIt_WithoutAStackTrace()
    {
        var bad = WriteUnreadableHoldCopy();

        var release = await Queue("release", bad);
        Assert.True(release.ExitCode == 1, release.ToString());
        Assert.Contains(Path.Combine("hold", bad + ".json"), release.Error + release.Output);
        Assert.Contains($"gateway queue delete {bad}", release.Error + release.Output);
        Assert.DoesNotContain("   at ", release.Error);

        var delete = await Queue("delete", bad);
        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.False(File.Exists(Path.Combine(_world.SpoolPath, "hold", bad + ".json")));
        Assert.False(File.Exists(Path.Combine(_world.SpoolPath, "hold", bad + ".eml")));
    }

    /// <summary>A hold copy whose envelope is not JSON (a disk error, a hand edit gone wrong).</summary>
    private string WriteUnreadableHoldCopy()
    {
        var name = SpoolId.New(DateTimeOffset.UtcNow) + "-1";
        Directory.CreateDirectory(Path.Combine(_world.SpoolPath, "hold"));
        File.WriteAllText(Path.Combine(_world.SpoolPath, "hold", name + ".json"), "{ \"id\": \"torn");
        File.WriteAllText(Path.Combine(_world.SpoolPath, "hold", name + ".eml"), "Subject: x\r\n\r\nbody\r\n");
        return name;
    }

    [Fact]
    public async Task RetryOrHold_OfAHeldEntry_SaysItIsHeld_AndThatReleaseIsTheCommand()
    {
        var id = await QueueDeferredAsync("held already", Bob);
        Assert.Equal(0, (await Queue("hold", id)).ExitCode);

        var retry = await Queue("retry", id);
        var hold = await Queue("hold", id);

        foreach (var result in new[] { retry, hold })
        {
            Assert.True(result.ExitCode == 1, result.ToString());
            Assert.Contains($"hold/{id}", result.Error);
            Assert.Contains($"gateway queue release {id}", result.Error);
            Assert.DoesNotContain("not in the queue", result.Error);
        }
    }

    [Fact]
    public async Task Retry_MakesADeferredEntryGoNow_AndIsAudited()
    {
        var id = await QueueDeferredAsync("retry me", Bob);
        var sink = await _upstream.StartSinkAsync();

        var retry = await Queue("retry", id);

        Assert.True(retry.ExitCode == 0, retry.ToString());
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("spoolId").GetString() == id, Wait);
        var message = Assert.Single(sink.Messages);
        Assert.Equal([Bob], message.RcptTo);
        Assert.True(Audited("queue-retry", id));
    }

    [Fact]
    public async Task HoldThenRelease_ParksTheEntry_ThenDeliversItOnceAfterRelease()
    {
        var id = await QueueDeferredAsync("hold me", Bob);
        var sink = await _upstream.StartSinkAsync();

        var hold = await Queue("hold", id);
        var retryAll = await Queue("retry", "--all"); // nothing left in incoming/: must not wake the held entry
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.True(hold.ExitCode == 0, hold.ToString());
        Assert.Contains($"{id}: held (1 recipient) in hold/{id}", hold.Output);
        Assert.True(retryAll.ExitCode == 0, retryAll.ToString());
        Assert.Empty(sink.Messages);
        Assert.False(File.Exists(Path.Combine(_world.SpoolPath, "incoming", id + ".json")));
        Assert.True(File.Exists(Path.Combine(_world.SpoolPath, "hold", id + ".json")));
        Assert.Contains("\"queue\": \"hold\"", (await Queue("list", "--json")).Output.Replace("\":\"", "\": \""));

        var release = await Queue("release", id);

        Assert.True(release.ExitCode == 0, release.ToString());
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("spoolId").GetString() == id, Wait);
        await Task.Delay(TimeSpan.FromSeconds(1));
        Assert.Equal([Bob], Assert.Single(sink.Messages).RcptTo);
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold")));
        Assert.True(Audited("queue-hold", id));
        Assert.True(Audited("queue-release", id));
    }

    /// <summary>An entry as a stop or a full disk leaves it: Bob still open, Erin failed with her report not queued yet.</summary>
    private async Task<string> AdmitOwingAReportAsync(bool bobOpen)
    {
        var options = Microsoft.Extensions.Options.Options.Create(new Gateway.Configuration.GatewayOptions
        {
            Spool = new Gateway.Configuration.SpoolOptions { Path = _world.SpoolPath },
        });
        var spool = new FileSpool(options, TimeProvider.System, Microsoft.Extensions.Logging.Abstractions.NullLogger<FileSpool>.Instance);
        var now = DateTimeOffset.UtcNow;
        var id = SpoolId.New(now);
        var content = Path.Combine(_world.Root, id + ".content");
        await File.WriteAllTextAsync(content, $"From: <{Alice}>\r\nSubject: owing\r\nMessage-ID: <{id}@example.test>\r\n\r\nbody\r\n");
        await spool.AdmitAsync(content, new SpoolEnvelope
        {
            Id = id, MailFrom = Alice, Client = "127.0.0.1", ReceivedAt = now, NextAttempt = now.AddHours(1), Attempts = 1,
            Recipients =
            [
                new SpoolRecipient { Address = Bob, Status = bobOpen ? RecipientStatus.Deferred : RecipientStatus.Delivered, Reply = "451 4.4.1 upstream down" },
                new SpoolRecipient
                {
                    Address = "erin@partner.test", Status = RecipientStatus.Failed, Reply = "550 5.7.10 no certificate",
                    ReportOwed = new OwedReport("failed", "550 5.7.10 no certificate", "No certificate.", now),
                },
            ],
        }, CancellationToken.None);
        return id;
    }

    [Fact]
    public async Task Hold_OfAnEntryOwingAReport_ParksTheOpenRecipients_AndLeavesTheEntryToSendTheReport()
    {
        var id = await AdmitOwingAReportAsync(bobOpen: true);

        var hold = await Queue("hold", id);

        Assert.True(hold.ExitCode == 0, hold.ToString());
        var held = await File.ReadAllTextAsync(Path.Combine(_world.SpoolPath, "hold", id + ".json"));
        Assert.Contains(Bob, held);
        Assert.DoesNotContain("erin@partner.test", held);
        // The report is still the sender's: the entry stays, with Bob held, and its attempt queues the report.
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "bounced") && e.GetProperty("spoolId").GetString() == id, Wait);
        await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "completed") && e.GetProperty("spoolId").GetString() == id, Wait);
        Assert.True(File.Exists(Path.Combine(_world.SpoolPath, "hold", id + ".json")));
    }

    [Fact]
    public async Task Hold_OfAnEntryWithNobodyLeftToDeliverTo_IsRefused_AndTheEntryStays()
    {
        var id = await AdmitOwingAReportAsync(bobOpen: false);

        var hold = await Queue("hold", id);

        Assert.NotEqual(0, hold.ExitCode);
        Assert.Contains("no recipient is waiting for delivery", hold.ToString());
        Assert.True(File.Exists(Path.Combine(_world.SpoolPath, "incoming", id + ".json")));
        Assert.False(File.Exists(Path.Combine(_world.SpoolPath, "hold", id + ".json")));
        Assert.Contains("report owed", (await Queue("list")).Output);
    }

    [Fact]
    public async Task HoldThenRelease_KeepsEachRecipientsDsnRequest()
    {
        await _gateway.SendRawAsync(Alice, Bob, "dsn-hold", "", "NOTIFY=SUCCESS ORCPT=rfc822;bob+2Bcfo@partner.test");
        var id = (await _gateway.WaitForAuditAsync(e => RunningGateway.Is(e, "deferred"), Wait)).GetProperty("spoolId").GetString()!;
        var deadline = DateTime.UtcNow + Wait;
        while (!File.Exists(Path.Combine(_world.SpoolPath, "incoming", id + ".json")) && DateTime.UtcNow < deadline) await Task.Delay(20);
        var sink = await _upstream.StartSinkAsync(); // offers no DSN: success is reported by the gateway

        Assert.True((await Queue("hold", id)).ExitCode == 0);
        Assert.Contains("\"notify\": \"success\"", await File.ReadAllTextAsync(Path.Combine(_world.SpoolPath, "hold", id + ".json")));
        Assert.True((await Queue("release", id)).ExitCode == 0);

        var messages = await sink.WaitForMessagesAsync(2, Wait);
        var report = Assert.Single(messages, m => m.MailFrom == "");
        Assert.Equal([Alice], report.RcptTo);
        var perRecipient = Assert.IsType<MimeKit.MessageDeliveryStatus>(Assert.IsType<MimeKit.MultipartReport>(report.Parse().Body)[1]).StatusGroups[1];
        Assert.Equal("relayed", perRecipient["Action"]);
        Assert.Equal("rfc822; bob+cfo@partner.test", perRecipient["Original-Recipient"]);
    }

    [Fact]
    public async Task Delete_RemovesTheEntry_NothingIsDelivered_AndTheDeletionIsAudited()
    {
        var id = await QueueDeferredAsync("delete me", Bob);
        var sink = await _upstream.StartSinkAsync();

        var delete = await Queue("delete", id);
        var again = await Queue("delete", id);
        await Queue("retry", "--all");
        await Task.Delay(TimeSpan.FromSeconds(2));

        Assert.True(delete.ExitCode == 0, delete.ToString());
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("not in the queue", again.Error);
        Assert.Empty(sink.Messages);
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "incoming")));
        var audit = Assert.Single(_gateway.AuditEvents(), e => RunningGateway.Is(e, "queue-delete"));
        Assert.Equal(id, audit.GetProperty("spoolId").GetString());
        Assert.Equal([Bob], audit.GetProperty("recipients").EnumerateArray().Select(r => r.GetString()));
    }

    [Fact]
    public async Task Hold_DuringADeliveryAttempt_WaitsForTheWorker_AndLeavesNoHalfEntry()
    {
        var id = await QueueDeferredAsync("busy", Bob);
        var sink = await _upstream.StartSinkAsync();
        var inData = new ManualResetEventSlim();
        sink.OnData = _ =>
        {
            inData.Set();
            Thread.Sleep(TimeSpan.FromSeconds(6)); // the worker holds the entry's lock meanwhile; the CLI starts in 1-2 s
            return null;
        };
        Assert.Equal(0, (await Queue("retry", id)).ExitCode);
        Assert.True(inData.Wait(Wait), "the retried attempt never reached DATA");

        var hold = await Queue("hold", id);

        // hold waited for the attempt, which delivered and finished the entry: nothing left to hold.
        Assert.Equal(1, hold.ExitCode);
        Assert.Contains("not in the queue", hold.Error);
        Assert.Single(sink.Messages);
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "incoming")));
        Assert.Empty(Directory.GetFiles(Path.Combine(_world.SpoolPath, "hold")));
        Assert.True(Audited("completed", id));
        Assert.False(Audited("queue-hold", id));
    }
}
