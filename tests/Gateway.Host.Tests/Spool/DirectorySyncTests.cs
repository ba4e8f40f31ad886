using Gateway.Spool;

namespace Gateway.Tests.Spool;

/// <summary>The spool folder's fsync is shared by sessions accepting at once, and never returns before a flush that began after the call.</summary>
public sealed class DirectorySyncTests
{
    private static readonly TimeSpan Wait = TimeSpan.FromSeconds(10);

    [Fact]
    public async Task CallersDuringAFlush_ShareTheNextOne_AndNoneReturnsBeforeAFlushThatBeganAfterIt()
    {
        var flushes = 0;
        var release = new SemaphoreSlim(0);
        var started = new SemaphoreSlim(0);
        var sync = new DirectorySync(() =>
        {
            Interlocked.Increment(ref flushes);
            started.Release();
            release.Wait(Wait);
        });

        var first = Task.Run(sync.SyncAsync);
        Assert.True(await started.WaitAsync(Wait));
        // These three call while the first flush runs: it may have begun before their entries were named.
        var others = Enumerable.Range(0, 3).Select(_ => Task.Run(sync.SyncAsync)).ToList();
        await Task.Delay(100);
        Assert.All(others, t => Assert.False(t.IsCompleted));

        release.Release();
        await first.WaitAsync(Wait);
        Assert.True(await started.WaitAsync(Wait)); // the second flush, for all three
        await Task.Delay(100);
        Assert.All(others, t => Assert.False(t.IsCompleted));
        release.Release();
        await Task.WhenAll(others).WaitAsync(Wait);

        Assert.Equal(2, flushes);
    }

    [Fact]
    public async Task AFailedFlush_FailsItsCaller_AndAWaitingCallerFlushesForItself()
    {
        var calls = 0;
        var release = new SemaphoreSlim(0);
        var started = new SemaphoreSlim(0);
        var sync = new DirectorySync(() =>
        {
            var call = Interlocked.Increment(ref calls);
            started.Release();
            release.Wait(Wait);
            if (call == 1) throw new IOException("fsync of directory failed (errno 5)");
        });

        var failing = Task.Run(sync.SyncAsync);
        Assert.True(await started.WaitAsync(Wait));
        var waiting = Task.Run(sync.SyncAsync);
        await Task.Delay(100);
        release.Release();

        await Assert.ThrowsAsync<IOException>(() => failing.WaitAsync(Wait));
        Assert.True(await started.WaitAsync(Wait));
        release.Release();
        await waiting.WaitAsync(Wait);
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task CallersArrivingBeforeTheFirstFlushBegins_ShareIt()
    {
        var flushes = 0;
        var sync = new DirectorySync(() => Interlocked.Increment(ref flushes));

        // Four sessions whose records are written before the first one's flush starts: on one
        // thread, so each call runs up to its first wait before the next call begins.
        var callers = await Task.Run(() => Enumerable.Range(0, 4).Select(_ => sync.SyncAsync()).ToList());
        await Task.WhenAll(callers).WaitAsync(Wait);

        Assert.Equal(1, flushes);
    }

    [Fact]
    public async Task AFailedFlush_FailsEveryCallerItCovered_WithoutFlushingAgain()
    {
        var flushes = 0;
        var sync = new DirectorySync(() =>
        {
            Interlocked.Increment(ref flushes);
            throw new IOException("fsync of directory failed (errno 5)");
        });

        var callers = await Task.Run(() => Enumerable.Range(0, 3).Select(_ => sync.SyncAsync()).ToList());

        foreach (var caller in callers) await Assert.ThrowsAsync<IOException>(() => caller.WaitAsync(Wait));
        Assert.Equal(1, flushes);
    }
}
