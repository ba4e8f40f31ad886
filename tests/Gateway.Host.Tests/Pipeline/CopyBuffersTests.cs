using System.Runtime.InteropServices;
using Gateway.Pipeline;

namespace Gateway.Tests.Pipeline;

public sealed class CopyBuffersTests
{
    [Fact]
    public void AfterABurst_ThePoolKeepsItsCap_AndZeroesWhatItKeepsAndWhatItDrops()
    {
        var buffers = new CopyBuffers(transforms: 1); // keeps 8 MiB
        var copies = Enumerable.Range(0, 6).Select(_ => buffers.Rent("test")).ToList();
        var mail = Enumerable.Repeat((byte)'m', 4 * 1024 * 1024).ToArray();
        foreach (var copy in copies) copy.Write(mail);
        // The blocks under the copies, as the pool hands them out and gets them back.
        var blocks = copies.SelectMany(c => Blocks((CopyBuffers.PooledCopy)c)).ToList();
        Assert.Equal(24 * 1024 * 1024, buffers.Lent);

        copies.ForEach(c => c.Dispose());

        Assert.Equal(0, buffers.Lent);
        Assert.Equal(buffers.KeptAtMost, buffers.Kept);
        Assert.All(blocks, block => Assert.True(block.AsSpan().IndexOfAnyExcept((byte)0) < 0, "a block still holds mail"));
    }

    [Fact]
    public void ACopy_IsMadeInMemoryOnlyWhileThePoolHasRoomForIt()
    {
        var buffers = new CopyBuffers(transforms: 1); // lends 16 MiB
        using var held = buffers.Rent("test");
        held.Write(new byte[15 * 1024 * 1024]);

        Assert.True(buffers.HasRoomFor(1024 * 1024));
        Assert.False(buffers.HasRoomFor(1024 * 1024 + 1));
    }

    private static IEnumerable<byte[]> Blocks(CopyBuffers.PooledCopy copy)
    {
        foreach (var segment in copy.Memory)
        {
            Assert.True(MemoryMarshal.TryGetArray(segment, out var array));
            yield return array.Array!;
        }
    }
}
