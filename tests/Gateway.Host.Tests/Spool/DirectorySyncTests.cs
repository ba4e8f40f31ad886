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

        // Four sessions whose records are written before the first one's flush starts.
        var callers = CallTogether(sync, 4);
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

        var callers = CallTogether(sync, 3);

        foreach (var caller in callers) await Assert.ThrowsAsync<IOException>(() => caller.WaitAsync(Wait));
        Assert.Equal(1, flushes);
    }

    [Fact]
    public async Task ACallerCoveredByAFailedFlush_Fails_EvenWhenItOnlyLooksAfterALaterFlushSucceeded()
    {
        var calls = 0;
        var releaseFirst = new SemaphoreSlim(0);
        var firstStarted = new SemaphoreSlim(0);
        var sync = new DirectorySync(() =>
        {
            var call = Interlocked.Increment(ref calls);
            if (call == 1) { firstStarted.Release(); releaseFirst.Wait(Wait); return; }
            if (call == 2) throw new IOException("fsync of directory failed (errno 5)");
            // Later fsyncs pass: Linux reported the writeback error once, to the second.
        });
        var first = Task.Run(sync.SyncAsync);
        Assert.True(await firstStarted.WaitAsync(Wait));

        // Calls during the first flush, so waits for it; a busy thread pool holds its continuation.
        var held = new HeldContext();
        var late = Run(held, sync.SyncAsync);
        releaseFirst.Release();
        await first.WaitAsync(Wait);
        // The next flush covers the late caller's entry, and fails.
        await Assert.ThrowsAsync<IOException>(() => Task.Run(sync.SyncAsync).WaitAsync(Wait));

        held.Release();
        await Assert.ThrowsAsync<IOException>(() => late.WaitAsync(Wait));
        // And a caller after the failure gets a flush of its own, which passes.
        await Task.Run(sync.SyncAsync).WaitAsync(Wait);
        Assert.Equal(3, calls);
    }

    [Fact]
    public async Task AFailedFlush_IsForgotten_OnceEveryCallerItCoveredHasFailed()
    {
        var fail = true;
        var sync = new DirectorySync(() =>
        {
            if (Volatile.Read(ref fail)) throw new IOException("fsync of directory failed (errno 5)");
        });
        var failed = typeof(DirectorySync).GetField("_failed", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;

        var callers = CallTogether(sync, 3);
        foreach (var caller in callers) await Assert.ThrowsAsync<IOException>(() => caller.WaitAsync(Wait));
        Volatile.Write(ref fail, false);
        await Task.Run(sync.SyncAsync).WaitAsync(Wait);

        // A disk whose fsyncs keep failing must not make the record of failures grow without end.
        Assert.Empty((System.Collections.IEnumerable)failed.GetValue(sync)!);
    }

    [Fact]
    public async Task TwoFailedFlushesInARow_AreEachForgotten_OnceTheCallersOfEachHaveFailed()
    {
        var calls = 0;
        var releaseFirst = new SemaphoreSlim(0);
        var firstStarted = new SemaphoreSlim(0);
        var sync = new DirectorySync(() =>
        {
            if (Interlocked.Increment(ref calls) == 1) { firstStarted.Release(); releaseFirst.Wait(Wait); }
            throw new IOException("fsync of directory failed (errno 5)");
        });
        var failed = typeof(DirectorySync).GetField("_failed", System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Instance)!;

        var first = Task.Run(sync.SyncAsync);
        Assert.True(await firstStarted.WaitAsync(Wait));
        var held = new HeldContext();
        var late = Run(held, sync.SyncAsync); // after the first flush began: the second one's to decide
        releaseFirst.Release();
        await Assert.ThrowsAsync<IOException>(() => first.WaitAsync(Wait));
        await Assert.ThrowsAsync<IOException>(() => Task.Run(sync.SyncAsync).WaitAsync(Wait)); // the second flush, covering the late caller
        held.Release();
        await Assert.ThrowsAsync<IOException>(() => late.WaitAsync(Wait));

        Assert.Equal(2, calls);
        Assert.Empty((System.Collections.IEnumerable)failed.GetValue(sync)!);
    }

    /// <summary>Makes the calls with every continuation they post held back until all were made, as a busy thread pool would.</summary>
    private static List<Task> CallTogether(DirectorySync sync, int count)
    {
        var held = new HeldContext();
        var callers = Enumerable.Range(0, count).Select(_ => Run(held, sync.SyncAsync)).ToList();
        held.Release();
        return callers;
    }

    private static Task Run(SynchronizationContext context, Func<Task> call)
    {
        var previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(context);
        try
        {
            return call();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }
    }

    /// <summary>Holds what is posted to it until released; after that, runs it on the thread pool.</summary>
    private sealed class HeldContext : SynchronizationContext
    {
        private readonly List<(SendOrPostCallback Callback, object? State)> _held = [];
        private bool _released;

        public override void Post(SendOrPostCallback d, object? state)
        {
            lock (_held)
            {
                if (!_released)
                {
                    _held.Add((d, state));
                    return;
                }
            }
            ThreadPool.QueueUserWorkItem(_ => d(state));
        }

        public void Release()
        {
            lock (_held) _released = true;
            foreach (var (callback, state) in _held) ThreadPool.QueueUserWorkItem(_ => callback(state));
        }
    }
}
