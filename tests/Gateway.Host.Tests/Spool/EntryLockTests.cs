using System.Diagnostics;
using System.Globalization;
using Gateway.Spool;
using Gateway.Testing;

namespace Gateway.Tests.Spool;

/// <summary>The entry lock: exclusive between holders and processes, and free the moment it is released.</summary>
public sealed class EntryLockTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-locks-").FullName;

    [Fact]
    public void EntryLock_IsExclusive_BetweenTwoHolders()
    {
        using (var first = EntryLock.TryAcquire(_folder, "X"))
        {
            Assert.NotNull(first);
            Assert.Null(EntryLock.TryAcquire(_folder, "X"));
        }
        using var again = EntryLock.TryAcquire(_folder, "X");
        Assert.NotNull(again);
    }

    [Fact]
    public async Task EntryLock_IsARecordLockThatAnotherProcessSees()
    {
        // The gateway turns .NET's implicit file locking off; the entry lock must still be a real
        // lock another process sees, or `gateway queue` and the running service would both work on
        // one entry. Python's lockf takes a POSIX record lock, which conflicts with ours.
        var probe = "import fcntl,os,sys\nfd=os.open(sys.argv[1], os.O_RDWR)\ntry:\n  fcntl.lockf(fd, fcntl.LOCK_EX|fcntl.LOCK_NB, 1, int(sys.argv[2]))\nexcept OSError:\n  sys.exit(3)\n";
        string[] Probe(string name) => ["-c", probe, EntryLock.SharedFile(_folder), EntryLock.OffsetOf(name).ToString(CultureInfo.InvariantCulture)];
        using (var held = EntryLock.TryAcquire(_folder, "Y"))
        {
            Assert.NotNull(held);
            Assert.Equal(3, (await ToolProcess.RunAsync("python3", Probe("Y"))).ExitCode);
            Assert.Equal(0, (await ToolProcess.RunAsync("python3", Probe("Z"))).ExitCode);
        }
        Assert.Equal(0, (await ToolProcess.RunAsync("python3", Probe("Y"))).ExitCode);
    }

    /// <summary>
    /// A child process holds a copy of every descriptor between its fork and its exec, and the lock
    /// lives as long as any copy: released by closing its descriptor only, it stayed held that long,
    /// so a lock taken again at once (a journal's recovery after its stop, a worker's next attempt)
    /// found the entry busy. A third of re-locks did while two threads started processes (CI flake:
    /// a segment skipped by recovery as "a running gateway's").
    /// </summary>
    [Fact]
    public async Task ReleasedLock_IsFreeAtOnce_WhileThisProcessStartsOthers()
    {
        var truePath = ToolProcess.Require("true");
        using var stop = new CancellationTokenSource();
        var started = 0;
        var starters = Enumerable.Range(0, 2).Select(_ => Task.Run(() =>
        {
            while (!stop.IsCancellationRequested)
            {
                using var process = Process.Start(new ProcessStartInfo(truePath) { UseShellExecute = false })!;
                process.WaitForExit();
                Interlocked.Increment(ref started);
            }
        })).ToList();

        var attempts = 0;
        var foundHeld = 0;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(2);
        while (DateTime.UtcNow < deadline || Volatile.Read(ref started) < 20)
        {
            using var entryLock = EntryLock.TryAcquire(_folder, "Z");
            attempts++;
            if (entryLock is null) foundHeld++;
        }
        await stop.CancelAsync();
        await Task.WhenAll(starters);

        Assert.True(foundHeld == 0, $"{foundHeld} of {attempts} locks taken right after a release found it still held ({started} processes started meanwhile)");
    }

    public void Dispose()
    {
        try { Directory.Delete(_folder, recursive: true); } catch (IOException) { }
    }
}
