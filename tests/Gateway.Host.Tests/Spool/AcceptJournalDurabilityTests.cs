using System.Buffers;
using System.Reflection;
using System.Runtime.ExceptionServices;
using System.Runtime.InteropServices;
using System.Text;
using Gateway.Spool;
using Gateway.Tests.Fixtures;
using Microsoft.Win32.SafeHandles;

namespace Gateway.Tests.Spool;

/// <summary>
/// The accept journal under failures: a 250 must mean the record was made durable by an
/// fdatasync that succeeded after it was written, and the memory limit must bound memory.
/// The group commit's flush is wrapped (reflection) only to widen a window that exists anyway.
/// </summary>
public sealed class AcceptJournalDurabilityTests : JournalTestFolder
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);
    private static Task<SpoolEnvelope> AcceptAsync(AcceptJournal journal, string data) =>
        journal.AcceptAsync(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes(data)), "alice@example.test", ["bob@partner.test"],
            "127.0.0.1", "client.example.test", null, null, CancellationToken.None);

    private static string Message(string subject, int bodyBytes = 0) =>
        $"Subject: {subject}\r\nFrom: alice@example.test\r\n\r\n{new string('x', bodyBytes)}body of {subject}";

    /// <summary>Wraps the journal's group-commit flush (SyncUnsynced) in <paramref name="around"/>.</summary>
    private static void WrapGroupCommit(AcceptJournal journal, Action<Action> around)
    {
        var sync = typeof(AcceptJournal).GetMethod("SyncUnsynced", BindingFlags.NonPublic | BindingFlags.Instance)!;
        void Real()
        {
            try { sync.Invoke(journal, null); }
            catch (TargetInvocationException e) { ExceptionDispatchInfo.Capture(e.InnerException!).Throw(); }
        }
        typeof(AcceptJournal).GetField("_commit", BindingFlags.NonPublic | BindingFlags.Instance)!
            .SetValue(journal, new DirectorySync(() => around(Real)));
    }

    /// <summary>
    /// Points the segment's descriptor at /dev/null until disposed: writes vanish and fdatasync fails
    /// (EINVAL), which is what a writeback error (EIO) looks like to the journal: the pages are dropped
    /// and the error is reported once; after Dispose the descriptor syncs fine again.
    /// </summary>
    /// <param name="writesFail">/dev/null opened read-only: every write fails at once (EBADF), as one that meets an I/O error does.</param>
    private sealed class WritebackError : IDisposable
    {
        private readonly int _fd;
        private readonly int _saved;
        private readonly int _null;

        public WritebackError(SafeFileHandle handle, bool writesFail = false)
        {
            _fd = (int)handle.DangerousGetHandle();
            _saved = DuplicateCloseOnExec(_fd, DupFdCloseOnExec, 0);
            _null = Open("/dev/null", (writesFail ? ReadOnly : ReadWrite) | CloseOnExec);
            Assert.True(_saved >= 0 && _null >= 0 && Dup3(_null, _fd, CloseOnExec) == _fd, "dup3 failed");
        }

        // Every descriptor keeps close-on-exec, as .NET opens them: dup2 would clear it, and the
        // segment's descriptor would leak into every process the other tests start.
        public void Dispose()
        {
            Dup3(_saved, _fd, CloseOnExec);
            Close(_saved);
            Close(_null);
        }

        private const int ReadOnly = 0, ReadWrite = 2, CloseOnExec = 0x80000, DupFdCloseOnExec = 1030; // O_RDONLY, O_RDWR, O_CLOEXEC, F_DUPFD_CLOEXEC

        [DllImport("libc", EntryPoint = "fcntl")]
        private static extern int DuplicateCloseOnExec(int fd, int command, int lowest);

        [DllImport("libc", EntryPoint = "dup3")]
        private static extern int Dup3(int from, int to, int flags);

        [DllImport("libc", EntryPoint = "open")]
        private static extern int Open([MarshalAs(UnmanagedType.LPUTF8Str)] string path, int flags);

        [DllImport("libc", EntryPoint = "close")]
        private static extern int Close(int fd);
    }

    /// <summary>
    /// T1 appends A and starts the group commit (ticket 1); before its flush takes the snapshot of
    /// unsynced segments, T2 appends B to the same segment (already listed, so not listed again) and
    /// asks for its own commit (ticket 2, not covered by T1's). T1's fdatasync fails: T1 gets 451, the
    /// segment is marked failed, but the snapshot was cleared, so T2's own flush finds nothing to sync
    /// and T2 gets 250 for a record no successful fdatasync ever covered. (The same happens when B is
    /// appended while T1's fdatasync runs: T2's fdatasync on the same descriptor then returns 0, since
    /// Linux reports a writeback error once.) After a crash the record is gone.
    /// </summary>
    [Fact]
    public async Task GroupCommitFails_ARecordAppendedBeforeItsSnapshot_IsNeverAcknowledgedWithoutASuccessfulSync()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test makes fdatasync fail by dup3 onto /dev/null, which needs Linux");
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var before = await AcceptAsync(journal, Message("before"));
        var segment = journal.Find(before.Id)!.Segment;

        using var entered = new SemaphoreSlim(0);
        using var proceed = new ManualResetEventSlim();
        var calls = 0;
        WrapGroupCommit(journal, real =>
        {
            if (Interlocked.Increment(ref calls) == 1)
            {
                entered.Release();
                proceed.Wait(Timeout);
            }
            real();
        });

        SpoolEnvelope? acknowledged;
        using (new WritebackError(segment.Handle))
        {
            var first = Task.Run(() => AcceptAsync(journal, Message("a")));
            Assert.True(await entered.WaitAsync(Timeout));
            var second = Task.Run(() => AcceptAsync(journal, Message("b")));
            var deadline = DateTime.UtcNow + Timeout;
            while (journal.Count < 3 && DateTime.UtcNow < deadline) await Task.Delay(5);
            Assert.Equal(3, journal.Count); // before, a, b appended; T1's flush has not taken its snapshot
            proceed.Set();

            await Assert.ThrowsAnyAsync<IOException>(() => first);
            try { acknowledged = await second; }
            catch (IOException) { acknowledged = null; }
        }
        if (acknowledged is null) return; // 451: fine

        journal.Dispose(); // crash: handles and locks gone, the file stays
        NewJournal(spool).Recover();
        Assert.True(spool.Exists(acknowledged.Id),
            $"{acknowledged.Id} got 250 after the group commit that covered its record failed (segment failed: {segment.Failed}), and is lost after a crash");
    }

    /// <summary>
    /// A record's write that fails may have written part of it (pwritev stops where the error met
    /// it). The segment's length did not move, so the next record was written over it from the same
    /// place, and a shorter one left the rest of the failed one after it: a tail of a client's
    /// message, which recovery then reads as records. Nothing more may be written to that segment.
    /// </summary>
    [Fact]
    public async Task AppendWhoseWriteFails_NothingMoreIsWrittenToThatSegment()
    {
        Assert.True(OperatingSystem.IsLinux(), "this test makes writes fail by dup3 of a read-only descriptor, which needs Linux");
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var before = await AcceptAsync(journal, Message("before"));
        var segment = journal.Find(before.Id)!.Segment;

        using (new WritebackError(segment.Handle, writesFail: true))
            Assert.NotNull(await Record.ExceptionAsync(() => AcceptAsync(journal, Message("failed", 5000))));
        var after = await AcceptAsync(journal, Message("after"));

        Assert.True(journal.Find(after.Id)?.Segment != segment, $"{after.Id} was written to {segment.Path} after a record's write failed there");
        Assert.True(journal.Find(before.Id) is not null || spool.Exists(before.Id), $"{before.Id}, acknowledged before, is gone");
    }

    /// <summary>
    /// A session whose record is appended and whose group commit has not yet run when the journal is
    /// disposed (the host's shutdown disposing singletons while a session is still in AcceptAsync):
    /// a closed segment must not pass for a synced one. Dispose syncs what is open before closing,
    /// so the session may get its 250, but then the record must be there after a crash.
    /// </summary>
    [Fact]
    public async Task JournalDisposedDuringAGroupCommit_TheWaitingSessionIsAcknowledgedOnlyForADurableRecord()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        await AcceptAsync(journal, Message("before"));

        using var entered = new SemaphoreSlim(0);
        using var proceed = new ManualResetEventSlim();
        WrapGroupCommit(journal, real =>
        {
            entered.Release();
            proceed.Wait(Timeout);
            real();
        });
        var accept = Task.Run(() => AcceptAsync(journal, Message("during shutdown")));
        Assert.True(await entered.WaitAsync(Timeout));
        journal.Dispose();
        proceed.Set();

        SpoolEnvelope? acknowledged;
        try { acknowledged = await accept; }
        catch (Exception e) when (e is IOException or ObjectDisposedException) { acknowledged = null; }
        if (acknowledged is null) return; // refused: fine
        NewJournal(spool).Recover();
        Assert.True(spool.Exists(acknowledged.Id), "250 for a record whose segment was closed by Dispose, and it is not there after a crash");
    }

    /// <summary>
    /// MemoryLimit must bound the memory held, not the bytes of the messages: a pooled stream's
    /// GetBuffer() pinned one 1 MiB buffer for each message of more than 32 KiB (32 messages of
    /// 40 KB held 32 MiB under a 4 MiB limit). 100 messages of 40 KB: some kept, the rest read back.
    /// </summary>
    [Fact]
    public async Task MessagesKeptInMemory_HoldNoMoreThanAboutTheMemoryLimit()
    {
        const long limit = 4 * 1024 * 1024;
        var spool = NewSpool();
        var journal = NewJournal(spool, segmentSize: 16 * 1024 * 1024, memoryLimit: limit);
        var ids = new List<string>();
        for (var n = 0; n < 100; n++) ids.Add((await AcceptAsync(journal, Message($"m{n}", 40 * 1000))).Id);

        var held = ids.Select(journal.Find).Sum(e => e!.MemoryHeld);
        var inMemory = ids.Count(id => journal.Find(id)!.MemoryHeld > 0);

        Assert.True(held <= limit, $"MemoryLimit {limit} bytes; buffers held {held} bytes");
        Assert.True(inMemory > 0 && inMemory < ids.Count, $"{inMemory} of {ids.Count} kept in memory: the limit should keep some, not all");
        foreach (var id in ids) // those over the limit are read back from their segment
        {
            using var reader = new StreamReader(journal.Find(id)!.Content().OpenRead(), Encoding.ASCII);
            Assert.Contains("body of m", await reader.ReadToEndAsync());
        }
    }

    /// <summary>
    /// The stop rule takes the first record that does not check for the torn tail of a crash and then
    /// deletes the segment. A record in the middle that fails its CRC (a bad sector, a bit flip) with
    /// whole, acknowledged records after it is not a torn tail: those records are silently dropped and
    /// the only copy is deleted. A fresh segment is zeros after its last record, so non-zero, checking
    /// records after the bad one prove corruption: keep them, or at least keep the segment (corrupt/).
    /// </summary>
    [Fact]
    public async Task RecordCorruptedInTheMiddle_TheAcknowledgedRecordsAfterItAreNotDroppedAndDeleted()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var first = await AcceptAsync(journal, Message("first"));
        var middle = await AcceptAsync(journal, Message("middle", 3000));
        var last = await AcceptAsync(journal, Message("last"));
        var segment = Path.Combine(journal.Folder, Path.GetFileName(journal.Find(first.Id)!.Segment.Path));
        var record = SpooledMessages.Records(segment)[1];
        var middleBody = record.Offset + JournalRecord.PrefixLength + record.Header.Length + 1000;
        journal.Dispose(); // crash
        using (var file = new FileStream(segment, FileMode.Open, FileAccess.Write)) { file.Position = middleBody; file.WriteByte((byte)'#'); }

        NewJournal(spool).Recover();

        Assert.True(spool.Exists(first.Id));
        var kept = Directory.EnumerateFiles(Root, Path.GetFileName(segment), SearchOption.AllDirectories).Any();
        Assert.True(spool.Exists(last.Id) || kept,
            $"acknowledged {last.Id} after the damaged {middle.Id} was dropped and its segment deleted");
    }

    /// <summary>
    /// While MoveToIncomingAsync waits for the incoming/ folder's fsync, the message is already an
    /// ordinary entry in incoming/. The journal must not hand it out any more then: a second attempt
    /// from the journal would run beside whoever takes the incoming/ entry, on a buffer the first
    /// attempt is about to release. (MessageProcessor also holds the entry lock across the move.)
    /// </summary>
    [Fact]
    public async Task WhileMovingToIncoming_TheJournalNoLongerHandsOutTheEntry()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool);
        var envelope = await AcceptAsync(journal, Message("raced", 2000));
        var entry = journal.Find(envelope.Id)!;

        using var entered = new SemaphoreSlim(0);
        using var proceed = new ManualResetEventSlim();
        typeof(FileSpool).GetField("_incomingNames", BindingFlags.NonPublic | BindingFlags.Instance)!.SetValue(spool, new DirectorySync(() =>
        {
            entered.Release();
            proceed.Wait(Timeout);
            DurableFile.SyncDirectory(spool.Incoming);
        }));
        var move = Task.Run(() => journal.MoveToIncomingAsync(entry));
        Assert.True(await entered.WaitAsync(Timeout));

        Assert.True(spool.Exists(envelope.Id));
        Assert.Null(journal.Find(envelope.Id));
        proceed.Set();
        await move;
        Assert.Null(journal.Find(envelope.Id));
        Assert.EndsWith(Message("raced", 2000) + "\r\n", await File.ReadAllTextAsync(spool.ContentPath(envelope.Id)));
    }
}
