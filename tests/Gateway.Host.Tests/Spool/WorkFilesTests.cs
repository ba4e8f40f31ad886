using Gateway.Spool;

namespace Gateway.Tests.Spool;

/// <summary>Work files are reused, never handed to two copies at once, and emptied the moment a copy is done with them.</summary>
public sealed class WorkFilesTests : IDisposable
{
    private const int KeptIdle = 16;
    private readonly string _folder = Directory.CreateTempSubdirectory("gateway-work-").FullName;

    [Fact]
    public void DisposedCopy_LeavesAnEmptyFile_WhichTheNextCopyReuses()
    {
        var files = new WorkFiles(_folder, KeptIdle);
        using (var copy = files.Open())
        {
            copy.Write(new byte[200_000]);
            copy.Position = 0;
            Assert.Equal(200_000, copy.Length);
        }
        var file = Assert.Single(Directory.GetFiles(_folder));
        Assert.Equal(0, new FileInfo(file).Length);

        using (var next = files.Open())
        {
            Assert.Equal(0, next.Length);
            next.Write("x"u8);
        }
        Assert.Equal(file, Assert.Single(Directory.GetFiles(_folder)));
    }

    [Fact]
    public async Task CopiesOpenAtOnce_EachGetTheirOwnFile_AndNoMoreAreKeptThanAsked()
    {
        var files = new WorkFiles(_folder, KeptIdle);
        var copies = Enumerable.Range(0, KeptIdle + 4).Select(_ => files.Open()).ToList();
        for (var i = 0; i < copies.Count; i++) copies[i].WriteByte((byte)i);
        for (var i = 0; i < copies.Count; i++)
        {
            copies[i].Position = 0;
            Assert.Equal(i, copies[i].ReadByte());
        }
        Assert.Equal(copies.Count, Directory.GetFiles(_folder).Length);

        for (var i = 0; i < copies.Count; i++)
        {
            if (i % 2 == 0) copies[i].Dispose();
            else await copies[i].DisposeAsync();
        }

        var kept = Directory.GetFiles(_folder);
        Assert.Equal(KeptIdle, kept.Length);
        Assert.All(kept, path => Assert.Equal(0, new FileInfo(path).Length));
    }

    [Fact]
    public void FileDeletedWhileIdle_IsReplacedByANewOne()
    {
        var files = new WorkFiles(_folder, KeptIdle);
        files.Open().Dispose();
        File.Delete(Assert.Single(Directory.GetFiles(_folder)));

        using var copy = files.Open();
        copy.Write("still works"u8);
        Assert.Single(Directory.GetFiles(_folder));
    }

    [Fact]
    public void DisposingTwice_ReturnsTheFileOnce()
    {
        var files = new WorkFiles(_folder, KeptIdle);
        var copy = files.Open();
        copy.Dispose();
        copy.Dispose();

        using var first = files.Open();
        using var second = files.Open();
        first.WriteByte(1);
        second.WriteByte(2);
        Assert.Equal(2, Directory.GetFiles(_folder).Length);
    }

    [Fact]
    public void CopyNeverDisposed_HasItsFileDeleted_OnceCollected()
    {
        var files = new WorkFiles(_folder, KeptIdle);
        OpenAndAbandon(files);
        Assert.Single(Directory.GetFiles(_folder));

        GC.Collect();
        GC.WaitForPendingFinalizers();

        Assert.Empty(Directory.GetFiles(_folder));
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static void OpenAndAbandon(WorkFiles files) => files.Open().Write("plaintext nobody cleaned up"u8);

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
