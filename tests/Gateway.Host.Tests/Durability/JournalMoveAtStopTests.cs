using System.Buffers;
using System.Text;
using Gateway.Spool;
using Gateway.Tests.Fixtures;

namespace Gateway.Tests.Durability;

/// <summary>
/// The clean-stop move (AcceptJournal.MoveWaitingToIncomingAsync) against the
/// entry lock, against itself, and its cost for a backlog.
/// </summary>
public sealed class JournalMoveAtStopTests : JournalTestFolder
{
    private static Task<SpoolEnvelope> AcceptAsync(AcceptJournal journal, int n) =>
        journal.AcceptAsync(new ReadOnlySequence<byte>(Encoding.ASCII.GetBytes($"Subject: m{n}\r\n\r\nbody {n}\r\n")), "alice@example.test", ["bob@partner.test"],
            "127.0.0.1", "client.example.test", null, null, CancellationToken.None);

    [Fact]
    public async Task MoveAtStop_SkipsAnEntryWhoseAttemptHoldsItsLock_AndRecoveryMovesItLater()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool, segmentSize: 8 * 1024 * 1024);
        var held = await AcceptAsync(journal, 0);
        var free = await AcceptAsync(journal, 1);

        int moved;
        using (spool.TryLock(held.Id)) moved = await journal.MoveWaitingToIncomingAsync(CancellationToken.None);

        Assert.Equal(1, moved);
        Assert.Equal([free.Id], Incoming(spool));
        journal.Dispose();
        Assert.Equal(1, NewJournal(spool, segmentSize: 8 * 1024 * 1024).Recover());
        Assert.Equal(new[] { held.Id, free.Id }.Order(StringComparer.Ordinal), Incoming(spool));
    }

    /// <summary>
    /// A worker still running after the host's token fired (base.StopAsync then returns early)
    /// finishes an entry after the move took its snapshot: the move then locks it, MoveToIncomingAsync
    /// returns quietly (the entry is no longer in the journal), and it is counted as moved anyway.
    /// The files are right; the count (and LogJournalMovedAtStop) is not. Two concurrent moves do
    /// the same, only less reliably.
    /// </summary>
    [Fact]
    public async Task MoveAtStop_CountsOnlyWhatItMoved_WhenAWorkerFinishesAnEntryMeanwhile()
    {
        const int waiting = 1000;
        var spool = NewSpool();
        var journal = NewJournal(spool, segmentSize: 8 * 1024 * 1024);
        var ids = new List<string>();
        for (var n = 0; n < waiting; n++) ids.Add((await AcceptAsync(journal, n)).Id);
        var last = ids.Max(StringComparer.Ordinal)!;

        var move = Task.Factory.StartNew(() => journal.MoveWaitingToIncomingAsync(CancellationToken.None), TaskCreationOptions.LongRunning).Unwrap();
        while (journal.Count == waiting) Thread.Yield(); // the move has its snapshot (no await: the pool may be busy)
        using (var entryLock = spool.TryLock(last))
        {
            Assert.NotNull(entryLock); // the move is still far from the last one
            var entry = journal.Find(last);
            journal.Complete(entry!); // the worker's attempt delivered it
        }
        var moved = await move;

        Assert.Equal(waiting - 1, Incoming(spool).Length);
        Assert.DoesNotContain(last, Incoming(spool));
        Assert.Equal(0, journal.Count);
        Assert.Equal(waiting - 1, moved);
    }

    /// <summary>
    /// When the host's stop time runs out, the move stops where it is: what is left stays in the
    /// journal and recovery moves it at the next start, so nothing is lost either way.
    /// </summary>
    [Fact]
    public async Task MoveAtStop_StopsWhenTheHostsTimeRunsOut_AndRecoveryMovesTheRest()
    {
        var spool = NewSpool();
        var journal = NewJournal(spool, segmentSize: 8 * 1024 * 1024);
        for (var n = 0; n < 5; n++) await AcceptAsync(journal, n);

        var moved = await journal.MoveWaitingToIncomingAsync(new CancellationToken(canceled: true));

        Assert.Equal(0, moved);
        journal.Dispose();
        Assert.Equal(5, NewJournal(spool, segmentSize: 8 * 1024 * 1024).Recover());
    }
}
