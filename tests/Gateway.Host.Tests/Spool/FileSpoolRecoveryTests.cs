using System.Buffers;
using System.Text;
using Gateway.Configuration;
using Gateway.Spool;
using Gateway.Testing;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Gateway.Tests.Spool;

/// <summary>
/// The spool on disk is the truth: what Accept writes, what Recover keeps, removes or quarantines
/// after a stop or a crash, and how per-recipient state survives a save.
/// </summary>
public sealed class FileSpoolRecoveryTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("gateway-spool-").FullName;

    public void Dispose()
    {
        try { Directory.Delete(_root, recursive: true); } catch (IOException) { }
    }

    private FileSpool NewSpool(TimeProvider? time = null) =>
        new(Options.Create(new GatewayOptions { Spool = new SpoolOptions { Path = _root } }), time ?? TimeProvider.System, NullLogger<FileSpool>.Instance);

    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.ASCII.GetBytes(text));

    private static Task<SpoolEnvelope> AcceptAsync(FileSpool spool, string data, params string[] recipients) =>
        spool.AcceptAsync(Bytes(data), "alice@example.test", recipients.Length == 0 ? ["bob@partner.test"] : recipients, "127.0.0.1", "client.example.test", null, null, CancellationToken.None);

    [Fact]
    public async Task Accept_WritesContentAndEnvelope_IntoIncoming()
    {
        var spool = NewSpool();
        spool.Recover();

        var envelope = await AcceptAsync(spool, "Subject: hi\r\n\r\nbody", "bob@partner.test", "carol@partner.test");

        Assert.True(SpoolId.IsValid(envelope.Id), envelope.Id);
        var names = Directory.GetFiles(spool.Incoming).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToList();
        Assert.Equal([envelope.Id + ".eml", envelope.Id + ".json"], names);
        Assert.Equal(new FileInfo(spool.ContentPath(envelope.Id)).Length, envelope.Size);

        var loaded = NewSpool().TryLoad(envelope.Id);
        Assert.NotNull(loaded);
        Assert.Equal("alice@example.test", loaded.MailFrom);
        Assert.Equal(["bob@partner.test", "carol@partner.test"], loaded.Recipients.Select(r => r.Address));
        Assert.All(loaded.Recipients, r => Assert.Equal(RecipientStatus.Pending, r.Status));
        Assert.Equal("127.0.0.1", loaded.Client);
    }

    [Fact]
    public async Task Accept_ConvertsBareLfToCrlf_AndRestoresTheFinalCrlfThatSmtpServerStrips()
    {
        var spool = NewSpool();
        spool.Recover();

        // Mixed: bare LF, CRLF, a lone CR that is not a line end, and no final line end (SmtpServer strips it).
        var envelope = await AcceptAsync(spool, "Subject: lf\nX-Crlf: yes\r\n\nline one\nline\rtwo\r\nlast line");

        var stored = await File.ReadAllBytesAsync(spool.ContentPath(envelope.Id));
        Assert.Equal("Subject: lf\r\nX-Crlf: yes\r\n\r\nline one\r\nline\rtwo\r\nlast line\r\n", Encoding.ASCII.GetString(stored));
        Assert.Equal(stored.Length, envelope.Size);
    }

    [Fact]
    public async Task Accept_KeepsAnEmptyLastLine_BeforeTheRestoredCrlf()
    {
        var spool = NewSpool();
        spool.Recover();

        // The client sent "body\r\n\r\n.\r\n": SmtpServer hands over "body\r\n"; the CRLF before the dot is ours to add.
        var envelope = await AcceptAsync(spool, "Subject: x\r\n\r\nbody\r\n");

        Assert.Equal("Subject: x\r\n\r\nbody\r\n\r\n", await File.ReadAllTextAsync(spool.ContentPath(envelope.Id)));
    }

    [Fact]
    public async Task Accept_DoesNotDoubleCr_WhenCrlfIsSplitAcrossSegments_AndLargeBodiesSurviveBufferFlushes()
    {
        var spool = NewSpool();
        spool.Recover();
        var line = new string('x', 998);
        var body = string.Concat(Enumerable.Repeat(line + "\n", 200)); // ~200 KB of bare LF lines: several 64 KB buffers
        var first = Encoding.ASCII.GetBytes("Subject: split\r");
        var second = Encoding.ASCII.GetBytes("\n\r\n" + body + "end");

        var envelope = await spool.AcceptAsync(SegmentedSequence.Of(first, second), "alice@example.test", ["bob@partner.test"], "127.0.0.1", null, null, null, CancellationToken.None);

        var expected = "Subject: split\r\n\r\n" + body.Replace("\n", "\r\n") + "end\r\n";
        var stored = await File.ReadAllTextAsync(spool.ContentPath(envelope.Id));
        Assert.Equal(expected.Length, stored.Length);
        Assert.True(expected == stored, "stored content differs from the CRLF-normalised input");
    }

    [Fact]
    public async Task Recover_RemovesContentWithoutEnvelope_BecauseItWasNeverAcknowledged()
    {
        var spool = NewSpool();
        spool.Recover();
        var kept = await AcceptAsync(spool, "Subject: kept\r\n\r\nkept");
        var orphan = SpoolId.New(DateTimeOffset.UtcNow);
        await File.WriteAllTextAsync(spool.ContentPath(orphan), "Subject: half\r\n\r\nhalf written");

        var ready = NewSpool().Recover();

        Assert.Equal([kept.Id], ready);
        Assert.False(File.Exists(spool.ContentPath(orphan)));
        Assert.Empty(Directory.GetFiles(spool.Corrupt));
    }

    [Theory]
    [InlineData("{ \"id\": \"truncated")]
    [InlineData("")]
    [InlineData("null")]
    [InlineData("{ \"version\": 1 }")]
    public async Task Recover_MovesBothFilesToCorrupt_WhenTheEnvelopeCannotBeParsed(string envelopeText)
    {
        var spool = NewSpool();
        spool.Recover();
        var good = await AcceptAsync(spool, "Subject: good\r\n\r\ngood");
        var bad = await AcceptAsync(spool, "Subject: bad\r\n\r\nbad");
        await File.WriteAllTextAsync(Path.Combine(spool.Incoming, bad.Id + ".json"), envelopeText);

        var ready = NewSpool().Recover();

        Assert.Equal([good.Id], ready);
        Assert.False(File.Exists(Path.Combine(spool.Incoming, bad.Id + ".json")));
        Assert.False(File.Exists(spool.ContentPath(bad.Id)));
        Assert.True(File.Exists(Path.Combine(spool.Corrupt, bad.Id + ".json")), "envelope not in corrupt/");
        Assert.Equal("Subject: bad\r\n\r\nbad\r\n", await File.ReadAllTextAsync(Path.Combine(spool.Corrupt, bad.Id + ".eml")));
    }

    [Fact]
    public async Task Recover_MovesToCorrupt_AnEnvelopeThatNamesAnotherId()
    {
        var spool = NewSpool();
        spool.Recover();
        var a = await AcceptAsync(spool, "Subject: a\r\n\r\na");
        var b = await AcceptAsync(spool, "Subject: b\r\n\r\nb");
        File.Copy(Path.Combine(spool.Incoming, a.Id + ".json"), Path.Combine(spool.Incoming, b.Id + ".json"), overwrite: true);

        var ready = NewSpool().Recover();

        Assert.Equal([a.Id], ready);
        Assert.True(File.Exists(Path.Combine(spool.Corrupt, b.Id + ".eml")));
        Assert.True(File.Exists(Path.Combine(spool.Corrupt, b.Id + ".json")));
    }

    [Fact]
    public async Task Recover_MovesAnEnvelopeWithoutContent_ToCorrupt()
    {
        var spool = NewSpool();
        spool.Recover();
        var entry = await AcceptAsync(spool, "Subject: lost\r\n\r\nlost");
        File.Delete(spool.ContentPath(entry.Id));

        var ready = NewSpool().Recover();

        Assert.Empty(ready);
        Assert.Empty(Directory.GetFiles(spool.Incoming));
        Assert.True(File.Exists(Path.Combine(spool.Corrupt, entry.Id + ".json")), "envelope without content was not moved to corrupt/");
    }

    [Fact]
    public async Task Recover_RemovesLeftoverWorkFilesAndTemporaryFiles_AndKeepsTheEntry()
    {
        var spool = NewSpool();
        spool.Recover();
        var entry = await AcceptAsync(spool, "Subject: w\r\n\r\nw");
        var work = spool.NewWorkFile(entry.Id, 1);
        await File.WriteAllTextAsync(work, "half a signed copy");
        var temporary = Path.Combine(spool.Incoming, entry.Id + ".json.tmp");
        await File.WriteAllTextAsync(temporary, "{ \"half\": ");

        var ready = NewSpool().Recover();

        Assert.Equal([entry.Id], ready);
        Assert.Empty(Directory.GetFiles(spool.Work));
        Assert.False(File.Exists(temporary));
        Assert.NotNull(NewSpool().TryLoad(entry.Id));
    }

    [Fact]
    public async Task HoldCopyWhoseEnvelopeCannotBeWritten_LeavesNoContentInHold()
    {
        var spool = NewSpool();
        spool.Recover();
        var entry = await AcceptAsync(spool, "Subject: held\r\n\r\nsecret");
        var name = entry.Id + "-1";
        // The envelope's temporary name taken by a folder: its write fails after the content's, as on a disk that just filled.
        Directory.CreateDirectory(Path.Combine(spool.Hold, name + ".json.tmp"));

        var failure = await Record.ExceptionAsync(() => spool.CopyToHoldAsync(entry, SpooledContent.InFile(spool.ContentPath(entry.Id)), name, entry.Recipients, CancellationToken.None));

        Assert.True(failure is IOException or UnauthorizedAccessException, $"the envelope's write should fail: {failure}");
        Assert.False(File.Exists(spool.HeldContentPath(name)), "a held copy without its envelope was left in hold/, where no listing shows it");
    }

    [Fact]
    public async Task Recover_RemovesHeldContentWithoutEnvelope_UnlessAQueueHoldIsWritingIt()
    {
        var spool = NewSpool();
        spool.Recover();
        var entry = await AcceptAsync(spool, "Subject: held\r\n\r\nsecret");
        var kept = entry.Id + "-1";
        await spool.CopyToHoldAsync(entry, SpooledContent.InFile(spool.ContentPath(entry.Id)), kept, entry.Recipients, CancellationToken.None);
        // Left by a crash (or a failed write) between the content and its envelope.
        var orphan = SpoolId.New(DateTimeOffset.UtcNow) + "-2";
        await File.WriteAllTextAsync(spool.HeldContentPath(orphan), "Subject: half\r\n\r\nsecret");
        var temporary = Path.Combine(spool.Hold, orphan + ".json.tmp");
        await File.WriteAllTextAsync(temporary, "{ \"half\": ");
        // `gateway queue hold ID` writes hold/ID.eml, then hold/ID.json, under ID's lock.
        var beingHeld = SpoolId.New(DateTimeOffset.UtcNow);
        await File.WriteAllTextAsync(spool.HeldContentPath(beingHeld), "Subject: being held\r\n\r\nsecret");
        using var queueHold = spool.TryLock(beingHeld);
        // A worker parks a copy ID-N of an entry under the entry's lock, ID.
        var parking = SpoolId.New(DateTimeOffset.UtcNow);
        await File.WriteAllTextAsync(spool.HeldContentPath(parking + "-3"), "Subject: being parked\r\n\r\nsecret");
        using var worker = spool.TryLock(parking);

        NewSpool().Recover();

        Assert.False(File.Exists(spool.HeldContentPath(orphan)), "hold/ kept content without an envelope");
        Assert.False(File.Exists(temporary), "hold/ kept a temporary envelope");
        Assert.True(File.Exists(spool.HeldContentPath(kept)));
        Assert.True(File.Exists(spool.HeldContentPath(beingHeld)), "recovery deleted a copy `gateway queue hold` is writing");
        Assert.True(File.Exists(spool.HeldContentPath(parking + "-3")), "recovery deleted a copy a worker is parking");
        Assert.Equal([kept], FileSpool.EntryNames(spool.Hold));
    }

    [Fact]
    public async Task Recover_ReturnsIdsInArrivalOrder_WhateverOrderTheyWereWritten()
    {
        var times = new[] { "2030-01-01T00:00:00Z", "2020-06-01T12:00:00Z", "2025-03-15T08:30:00Z", "2020-06-01T12:00:01Z" };
        var ids = new List<(DateTimeOffset At, string Id)>();
        foreach (var time in times)
        {
            var at = DateTimeOffset.Parse(time, System.Globalization.CultureInfo.InvariantCulture);
            var spool = NewSpool(new FakeTimeProvider(at));
            spool.Recover();
            ids.Add((at, (await AcceptAsync(spool, $"Subject: {time}\r\n\r\nx")).Id));
        }

        var ready = NewSpool().Recover();

        Assert.Equal(ids.OrderBy(i => i.At).Select(i => i.Id), ready);
    }

    [Fact]
    public async Task SaveThenTryLoad_RoundTripsPerRecipientState()
    {
        var spool = NewSpool();
        spool.Recover();
        var entry = await AcceptAsync(spool, "Subject: state\r\n\r\nstate", "bob@partner.test", "carol@partner.test", "dave@elsewhere.test");
        var next = new DateTimeOffset(2031, 2, 3, 4, 5, 6, TimeSpan.Zero);
        var updated = new DateTimeOffset(2031, 2, 3, 4, 0, 0, TimeSpan.Zero);
        entry.Attempts = 3;
        entry.NextAttempt = next;
        entry.Recipients[0].Status = RecipientStatus.Delivered;
        entry.Recipients[0].Reply = "250 2.0.0 Ok";
        entry.Recipients[0].Attempts = 1;
        entry.Recipients[0].UpdatedAt = updated;
        entry.Recipients[1].Status = RecipientStatus.Deferred;
        entry.Recipients[1].Reply = "450 4.2.0 mailbox busy";
        entry.Recipients[1].Attempts = 3;
        entry.Recipients[2].Status = RecipientStatus.Failed;
        entry.Recipients[2].Reply = "550 5.1.1 no such user";
        entry.Recipients[2].Attempts = 2;

        spool.Save(entry);
        var loaded = NewSpool().TryLoad(entry.Id);

        Assert.NotNull(loaded);
        Assert.Equal(3, loaded.Attempts);
        Assert.Equal(next, loaded.NextAttempt);
        Assert.Equal(entry.ReceivedAt, loaded.ReceivedAt);
        Assert.Equal(entry.Size, loaded.Size);
        Assert.Equal(
            entry.Recipients.Select(r => (r.Address, r.Status, r.Reply, r.Attempts, r.UpdatedAt)),
            loaded.Recipients.Select(r => (r.Address, r.Status, r.Reply, r.Attempts, r.UpdatedAt)));
        Assert.False(File.Exists(Path.Combine(spool.Incoming, entry.Id + ".json.tmp")));
        Assert.Equal([entry.Id], NewSpool().Recover());
    }

    [Fact]
    public async Task Complete_RemovesContentAndEnvelope()
    {
        var spool = NewSpool();
        spool.Recover();
        var done = await AcceptAsync(spool, "Subject: done\r\n\r\ndone");
        var other = await AcceptAsync(spool, "Subject: other\r\n\r\nother");

        spool.Complete(done.Id);

        Assert.False(File.Exists(spool.ContentPath(done.Id)));
        Assert.False(File.Exists(Path.Combine(spool.Incoming, done.Id + ".json")));
        Assert.Null(spool.TryLoad(done.Id));
        Assert.Equal([other.Id], NewSpool().Recover());
    }
}
