using System.Buffers;
using System.Text;
using System.Text.Json;
using Gateway.Spool;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Spool;

/// <summary>
/// The accept journal on disk: what a crash leaves behind is moved to incoming/ at the next start,
/// exactly the messages that were acknowledged and not done; torn tails and other gateways'
/// segments are left alone; the journal steps aside for large messages and unusable folders.
/// </summary>
public sealed class AcceptJournalTests : JournalTestFolder
{
    private static Task<SpoolEnvelope> AcceptAsync(AcceptJournal journal, string data) =>
        journal.AcceptAsync(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(data)), "alice@example.test", ["bob@partner.test", "carol@partner.test"],
            "127.0.0.1", "client.example.test", null, null, CancellationToken.None);

    private static string Message(string subject, int bodyBytes = 0) =>
        $"Subject: {subject}\r\nFrom: alice@example.test\r\n\r\n{new string('x', bodyBytes)}body of {subject}";

    /// <summary>What a crash leaves: the process's handles and locks are gone, unfinished messages stay in their segments.</summary>
    private static void Crash(AcceptJournal journal) => journal.Dispose();

    [Fact]
    public async Task AcknowledgedMessages_NotDone_AreMovedToIncomingAtTheNextStart_WithTheirBytesAndEnvelope()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var kept = await AcceptAsync(journal, Message("kept"));
        var done = await AcceptAsync(journal, Message("done"));
        journal.Complete(journal.Find(done.Id)!);
        Assert.Empty(Incoming(spool));
        Crash(journal);

        var moved = NewJournal(spool).Recover();

        Assert.Equal(1, moved);
        Assert.Equal([kept.Id], Incoming(spool));
        Assert.EndsWith(Message("kept") + "\r\n", await File.ReadAllTextAsync(spool.ContentPath(kept.Id)));
        var envelope = spool.TryLoad(kept.Id)!;
        Assert.Equal(["bob@partner.test", "carol@partner.test"], envelope.Recipients.Select(r => r.Address));
        Assert.Equal("alice@example.test", envelope.MailFrom);
        Assert.Equal(new FileInfo(spool.ContentPath(kept.Id)).Length, envelope.Size);
        Assert.Empty(Segments());
    }

    [Fact]
    public async Task EachRecipientsDsnRequest_SurvivesACrash_WithTheEnvelope()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var dsn = new DsnParameters("env-1", "HDRS", [new Gateway.Mail.RecipientDsn(Gateway.Mail.DsnNotify.Success | Gateway.Mail.DsnNotify.Delay, "rfc822;bob+2Bx@partner.test"), null]);
        var kept = await journal.AcceptAsync(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(Message("kept"))), "alice@example.test", ["bob@partner.test", "carol@partner.test"],
            "127.0.0.1", "client.example.test", dsn, null, CancellationToken.None);
        Crash(journal);

        Assert.Equal(1, NewJournal(spool).Recover());

        var envelope = spool.TryLoad(kept.Id)!;
        Assert.Equal("env-1", envelope.EnvelopeId);
        Assert.Equal("HDRS", envelope.Return);
        Assert.Equal(Gateway.Mail.DsnNotify.Success | Gateway.Mail.DsnNotify.Delay, envelope.Recipients[0].Notify);
        Assert.Equal("rfc822;bob+2Bx@partner.test", envelope.Recipients[0].OriginalRecipient);
        Assert.Null(envelope.Recipients[1].Notify);
        Assert.Null(envelope.Recipients[1].OriginalRecipient);
    }

    /// <summary>Two messages journaled, then a crash; the segment, and where the second record ends in it.</summary>
    private async Task<(FileSpool Spool, string First, string Second, string Segment, long SecondEnd)> TwoRecordsThenCrashAsync()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var first = await AcceptAsync(journal, Message("first"));
        var second = await AcceptAsync(journal, Message("second", 5000));
        var segment = Assert.Single(Segments(), HasRecords);
        Crash(journal);
        return (spool, first.Id, second.Id, segment, FindRecordEnd(segment, 2));
    }

    [Fact]
    public async Task RecordCutShortByACrash_IsDropped_TheWholeOnesBeforeItAreMoved()
    {
        var (spool, first, second, segment, end) = await TwoRecordsThenCrashAsync();
        // The second record loses its last 100 bytes and the zeros after it: a write the crash cut.
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write)) file.SetLength(end - 100);

        Assert.Equal(1, NewJournal(spool).Recover());
        Assert.Equal([first], Incoming(spool));
        Assert.False(spool.Exists(second));
    }

    [Fact]
    public async Task RecordWithStaleBytes_FailsItsChecksum_AndIsNotDelivered()
    {
        var (spool, first, second, segment, end) = await TwoRecordsThenCrashAsync();
        // Blocks of the second record that never reached the disk hold old bytes: same lengths, other content.
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = end - 2000;
            file.Write(Encoding.ASCII.GetBytes(new string('s', 1000)));
        }

        Assert.Equal(1, NewJournal(spool).Recover());
        Assert.Equal([first], Incoming(spool));
        Assert.False(spool.Exists(second));
    }

    /// <summary>
    /// A client controls its message's bytes and can compute a CRC-32: its body may hold a whole
    /// record (the journal's own framing) with an envelope of its choosing. When the record carrying
    /// that body is torn (a crash mid-write, or blocks that never reached the disk), recovery searched
    /// on byte by byte from the torn record's second byte and took the embedded one for a real one.
    /// </summary>
    [Theory]
    [InlineData(true, "cut short by a crash")]
    [InlineData(false, "whole length, a block of stale bytes")]
    public async Task TornRecordWhoseBodyHoldsAWholeRecord_TheEmbeddedOneIsNeverMaterialized(bool cutShort, string how)
    {
        var spool = NewSpool();
        var now = DateTimeOffset.UtcNow;
        var honest = FileSpool.NewEnvelope(SpoolId.New(now), "alice@example.test", ["bob@partner.test"], "127.0.0.1", null, now, 20, null);
        var forged = FileSpool.NewEnvelope(SpoolId.New(now), "ceo@example.test", ["accounts@elsewhere.test"], "127.0.0.1", null, now, 40, null);
        var carrier = FileSpool.NewEnvelope(SpoolId.New(now), "mallory@example.test", ["bob@partner.test"], "127.0.0.1", null, now, 0, null);
        var embedded = Record(forged, "Subject: pay invoice 4711 today\r\n\r\nok\r\n");
        var body = Encoding.ASCII.GetBytes("Subject: harmless\r\n\r\n").Concat(embedded).Concat(Encoding.ASCII.GetBytes(new string('x', 3000) + "\r\n")).ToArray();
        var torn = Record(carrier, body);
        if (cutShort) torn = torn[..(torn.Length - 1000)]; // the embedded record is whole: it lies before the cut
        else torn[^500] ^= 0x20;
        // A segment as versions before keys wrote it (left by a crash before an upgrade): records
        // from its first byte, checked without a key, zeros where none was written.
        var segment = new byte[64 * 1024];
        var first = Record(honest, "Subject: honest\r\n\r\nhello\r\n");
        first.CopyTo(segment, 0);
        torn.CopyTo(segment, first.Length);
        Directory.CreateDirectory(JournalFolder);
        await File.WriteAllBytesAsync(Path.Combine(JournalFolder, SpoolId.New(now) + ".journal"), segment);

        NewJournal(spool).Recover();

        Assert.False(spool.Exists(forged.Id), $"a record inside the body of a torn one ({how}) was delivered as a message");
        Assert.Equal([honest.Id], Incoming(spool));
    }

    /// <summary>
    /// A record whose prefix never reached the disk (a power cut writes a record's blocks in any
    /// order) declares no end, and recovery searches its bytes for the next record. A record a
    /// client built inside its message must not check there: the checksum of every record covers a
    /// random key of its segment, which no client ever sees.
    /// </summary>
    [Fact]
    public async Task RecordWhosePrefixNeverReachedTheDisk_ARecordBuiltInsideItsMessageDoesNotCheck()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var honest = await AcceptAsync(journal, Message("honest"));
        var now = DateTimeOffset.UtcNow;
        var forged = FileSpool.NewEnvelope(SpoolId.New(now), "ceo@example.test", ["accounts@elsewhere.test"], "127.0.0.1", null, now, 40, null);
        // Line ends in the message become CRLF: the client writes its envelope on one line and picks
        // a content whose record has no CR or LF byte of its own.
        var header = Encoding.UTF8.GetBytes(System.Text.Json.Nodes.JsonNode.Parse(JsonSerializer.SerializeToUtf8Bytes(forged, SpoolJson.Options))!.ToJsonString());
        var embedded = Enumerable.Range(0, 1000).Select(n => Record(header, Encoding.ASCII.GetBytes($"Subject: pay invoice {n} today")))
            .First(r => !r.Contains((byte)'\n') && !r.Contains((byte)'\r'));
        var message = Encoding.ASCII.GetBytes("Subject: harmless\r\n\r\n").Concat(embedded).Concat(Encoding.ASCII.GetBytes("\r\n" + new string('x', 3000))).ToArray();
        var carrier = await journal.AcceptAsync(new ReadOnlySequence<byte>(message), "mallory@example.test", ["bob@partner.test"], "127.0.0.1", null, null, null, CancellationToken.None);
        var segment = Assert.Single(Segments(), HasRecords);
        var carrierRecord = SpooledMessages.Records(segment).Single(r => r.Header.Length > 0 && Encoding.ASCII.GetString(r.Header).Contains(carrier.Id));
        Crash(journal);
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = carrierRecord.Offset;
            file.Write(new byte[JournalRecord.PrefixLength]);
        }

        NewJournal(spool).Recover();

        Assert.False(spool.Exists(forged.Id), "a record a client built inside its message was delivered as a message");
        Assert.Equal([honest.Id], Incoming(spool));
    }

    /// <summary>
    /// A bad sector or a flipped bit in a record's length field can declare an end far beyond the
    /// whole records after it. In a keyed segment no record a client builds checks, so the next
    /// record is looked for from the bad one's next byte: those records are recovered, not dropped.
    /// </summary>
    [Fact]
    public async Task RecordWhoseLengthFieldIsDamaged_TheWholeRecordsAfterItAreRecovered_AndTheSegmentKept()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var first = await AcceptAsync(journal, Message("first"));
        var damaged = await AcceptAsync(journal, Message("damaged", 2000));
        var third = await AcceptAsync(journal, Message("third"));
        var fourth = await AcceptAsync(journal, Message("fourth", 3000));
        var segment = Assert.Single(Segments(), HasRecords);
        var record = SpooledMessages.Records(segment)[1];
        Crash(journal);
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write))
        {
            file.Position = record.Offset + 8; // its content length: 3 MiB, beyond the segment's end
            var length = new byte[sizeof(long)];
            System.Buffers.Binary.BinaryPrimitives.WriteInt64LittleEndian(length, 3 * 1024 * 1024);
            file.Write(length);
        }

        Assert.Equal(3, NewJournal(spool).Recover());
        Assert.Equal(new[] { first.Id, third.Id, fourth.Id }.Order(StringComparer.Ordinal), Incoming(spool));
        Assert.False(spool.Exists(damaged.Id));
        Assert.True(File.Exists(Path.Combine(spool.Corrupt, Path.GetFileName(segment))), "a damaged segment was deleted");
    }

    /// <summary>Without its key no record of a segment can be told from a client's bytes: none is read, and the segment is kept for the admin, not deleted.</summary>
    [Fact]
    public async Task SegmentWhoseKeyIsDamaged_IsKeptInCorrupt_AndNothingIsReadFromIt()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        await AcceptAsync(journal, Message("kept"));
        var segment = Assert.Single(Segments(), HasRecords);
        Crash(journal);
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.ReadWrite))
        {
            file.Position = 5;
            var b = file.ReadByte();
            file.Position = 5;
            file.WriteByte((byte)(b ^ 1));
        }

        Assert.Equal(0, NewJournal(spool).Recover());
        Assert.Empty(Incoming(spool));
        Assert.True(File.Exists(Path.Combine(spool.Corrupt, Path.GetFileName(segment))), "the segment was deleted with its messages");
    }

    /// <summary>
    /// A version from before keys recovers the *.journal files it finds and deletes those in which it
    /// finds no record: a segment that begins with a key is one to it. Going back to it after a crash
    /// deleted messages that had their 250; under a name it does not list, it leaves them alone.
    /// </summary>
    [Fact]
    public async Task SegmentThatBeginsWithAKey_HasANameAVersionFromBeforeKeysDoesNotList()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var kept = await AcceptAsync(journal, Message("kept"));
        Crash(journal);

        // What a version from before keys recovers (and deletes when it finds no record in it).
        Assert.Empty(Directory.GetFiles(JournalFolder, "*.journal"));
        var segment = Assert.Single(Segments(), HasRecords);
        Assert.EndsWith(".journal2", segment);
        Assert.Equal(1, NewJournal(spool).Recover());
        Assert.Equal([kept.Id], Incoming(spool));
    }

    /// <summary>Segments a version from before keys left (a crash, then an upgrade, or a rollback and back) are listed and recovered, never written.</summary>
    [Fact]
    public async Task SegmentFromBeforeKeys_ItsUnfinishedMessagesAreListedAndRecovered()
    {
        var spool = NewSpool();
        var now = DateTimeOffset.UtcNow;
        var open = FileSpool.NewEnvelope(SpoolId.New(now), "alice@example.test", ["bob@partner.test"], "127.0.0.1", null, now, 26, null);
        var done = FileSpool.NewEnvelope(SpoolId.New(now), "alice@example.test", ["carol@partner.test"], "127.0.0.1", null, now, 26, null);
        var segment = new byte[64 * 1024];
        byte[] records = [.. Record(open, "Subject: open\r\n\r\nhello\r\n"), .. Record(done, "Subject: done\r\n\r\nhello\r\n"), .. DoneRecord(done.Id)];
        records.CopyTo(segment, 0);
        Directory.CreateDirectory(JournalFolder);
        var path = Path.Combine(JournalFolder, SpoolId.New(now) + ".journal");
        await File.WriteAllBytesAsync(path, segment);

        Assert.Equal([open.Id], AcceptJournal.ReadUnfinished(spool).Select(e => e.Id));
        Assert.Equal(1, NewJournal(spool).Recover());
        Assert.Equal([open.Id], Incoming(spool));
        Assert.EndsWith("Subject: open\r\n\r\nhello\r\n", await File.ReadAllTextAsync(spool.ContentPath(open.Id)));
        Assert.False(File.Exists(path));
    }

    private static byte[] Record(SpoolEnvelope envelope, string content) => Record(envelope, Encoding.ASCII.GetBytes(content));

    /// <summary>A whole 'A' record as versions before keys framed it (anyone can: the checksum is a CRC-32).</summary>
    private static byte[] Record(SpoolEnvelope envelope, byte[] content) => Record(JsonSerializer.SerializeToUtf8Bytes(envelope, SpoolJson.Options), content);

    private static byte[] Record(byte[] header, byte[] content) => LegacyJournalRecord.Of(JournalRecord.Accepted, header, content);

    /// <summary>A 'D' record as versions before keys wrote it.</summary>
    private static byte[] DoneRecord(string id) => LegacyJournalRecord.Of(JournalRecord.Done, Encoding.ASCII.GetBytes(id), []);

    [Fact]
    public async Task SegmentOfAJournalStillRunning_IsNotRecoveredByAnother()
    {
        var spool = NewSpool();
        var running = NewJournal(spool);
        var envelope = await AcceptAsync(running, Message("in flight"));

        Assert.Equal(0, NewJournal(spool).Recover());
        Assert.Empty(Incoming(spool));
        Assert.NotNull(running.Find(envelope.Id));
        Assert.NotEmpty(Segments());
    }

    [Fact]
    public async Task MessageAlreadyMovedToIncoming_WhoseDoneRecordWasLost_IsNotMovedAgain()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var envelope = await AcceptAsync(journal, Message("moved"));
        // The worker moved it with its state after a first attempt; the crash took the 'D' record.
        var entry = journal.Find(envelope.Id)!;
        entry.Envelope.Attempts = 3;
        await spool.MaterializeAsync(entry.Envelope, entry.Content());
        Crash(journal);

        Assert.Equal(0, NewJournal(spool).Recover());
        Assert.Equal(3, spool.TryLoad(envelope.Id)!.Attempts);
    }

    [Fact]
    public async Task MoveToIncoming_KeepsTheAttemptsState_AndRecoveryThenHasNothingToDo()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var envelope = await AcceptAsync(journal, Message("deferred"));
        var entry = journal.Find(envelope.Id)!;
        entry.Envelope.Attempts = 1;
        entry.Envelope.Recipients[0].Status = RecipientStatus.Delivered;

        await journal.MoveToIncomingAsync(entry);

        Assert.Null(journal.Find(envelope.Id));
        var saved = spool.TryLoad(envelope.Id)!;
        Assert.Equal(1, saved.Attempts);
        Assert.Equal(RecipientStatus.Delivered, saved.Recipients[0].Status);
        Crash(journal);
        Assert.Equal(0, NewJournal(spool).Recover());
    }

    [Fact]
    public async Task FullSegment_IsDeleted_OnceEveryMessageInItIsDone()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool, segmentSize: 64 * 1024);
        var entries = new List<JournalEntry>();
        var segmentsSeen = new HashSet<string>();
        for (var n = 0; n < 20; n++)
        {
            var envelope = await AcceptAsync(journal, Message($"m{n}", 10 * 1024));
            // A message that finds the next segment still being made gets its own files instead.
            if (journal.Find(envelope.Id) is { } entry) entries.Add(entry);
            segmentsSeen.UnionWith(Segments());
            await Task.Delay(10);
        }
        Assert.True(segmentsSeen.Count >= 4, $"20 records of 10 KB in segments of 64 KB went to {segmentsSeen.Count} segments");
        Assert.True(entries.Count >= 15, $"only {entries.Count} of 20 journaled");

        foreach (var entry in entries) journal.Complete(entry);

        // What is left: the segment being written and the spare made ahead of it.
        Assert.InRange(Segments().Length, 1, 2);
        Assert.Equal(0, journal.Count);
    }

    [Fact]
    public async Task MessageOverMemoryLimit_IsReadBackFromItsSegment()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool, memoryLimit: 0);
        var envelope = await AcceptAsync(journal, Message("read back", 3000));

        using var content = journal.Find(envelope.Id)!.Content().OpenRead();
        using var reader = new StreamReader(content, Encoding.ASCII);

        Assert.EndsWith(Message("read back", 3000) + "\r\n", await reader.ReadToEndAsync());
    }

    [Fact]
    public async Task LargestMessageOfBareLineFeeds_DoublesWhenRepaired_AndIsStillRecovered()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool, segmentSize: 4 * 1024 * 1024);
        var data = "Subject: lf\n\n" + new string('\n', (int)AcceptJournal.MaximumMessageSize - 13);
        var envelope = await AcceptAsync(journal, data);
        Assert.NotNull(journal.Find(envelope.Id));
        Assert.True(envelope.Size > 2 * AcceptJournal.MaximumMessageSize - 100, $"size {envelope.Size}");
        Crash(journal);

        Assert.Equal(1, NewJournal(spool).Recover());
        Assert.Equal(envelope.Size, new FileInfo(spool.ContentPath(envelope.Id)).Length);
    }

    [Fact]
    public async Task MessageOverTheJournalLimit_GetsItsOwnFiles()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var envelope = await AcceptAsync(journal, Message("large", (int)AcceptJournal.MaximumMessageSize));

        Assert.Null(journal.Find(envelope.Id));
        Assert.Equal([envelope.Id], Incoming(spool));
    }

    [Fact]
    public async Task JournalFolderUnusable_MessagesGetTheirOwnFiles()
    {
        var spool = NewSpool();
        await File.WriteAllTextAsync(JournalFolder, "not a folder");
        var journal = NewJournal(spool);

        var envelope = await AcceptAsync(journal, Message("fallback"));

        Assert.Null(journal.Find(envelope.Id));
        Assert.Equal([envelope.Id], Incoming(spool));
    }

    [Fact]
    public async Task NoRoomForASegmentAboveTheFreeSpaceReserve_MessagesGetTheirOwnFiles()
    {
        var free = new DriveInfo(Root).AvailableFreeSpace;
        // A reserve that leaves room for a small message but not for a segment of 1 MiB more.
        var spool = NewSpool(minimumFreeSpace: free - 512 * 1024);
        var journal = NewJournal(spool);

        var envelope = await AcceptAsync(journal, Message("no room"));

        Assert.Null(journal.Find(envelope.Id));
        Assert.Equal([envelope.Id], Incoming(spool));
        Assert.Empty(Segments());
    }

    [Fact]
    public async Task ConcurrentAccepts_AreAllJournaled_AndAllRecovered()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool, segmentSize: 256 * 1024);
        var envelopes = await Task.WhenAll(Enumerable.Range(0, 64).Select(n => Task.Run(() => AcceptAsync(journal, Message($"c{n}", 2000)))));
        Assert.Equal(64, journal.Count);
        Crash(journal);

        Assert.Equal(64, NewJournal(spool).Recover());
        Assert.Equal(envelopes.Select(e => e.Id).Order(StringComparer.Ordinal), Incoming(spool));
        foreach (var envelope in envelopes)
        {
            var text = await File.ReadAllTextAsync(spool.ContentPath(envelope.Id));
            var subject = JsonDocument.Parse(await File.ReadAllBytesAsync(Path.Combine(spool.Incoming, envelope.Id + ".json"))).RootElement.GetProperty("id").GetString();
            Assert.Equal(envelope.Id, subject);
            Assert.Contains("Subject: c", text);
        }
    }

    /// <summary>A segment records were written to, not the spare made ahead.</summary>
    private static bool HasRecords(string segment) => SpooledMessages.Records(segment).Count > 0;

    /// <summary>Offset just past the n-th record (1-based) of a segment.</summary>
    private static long FindRecordEnd(string segment, int n)
    {
        var record = SpooledMessages.Records(segment)[n - 1];
        return record.Offset + record.Length;
    }
}
