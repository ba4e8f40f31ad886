using Microsoft.IO;

namespace Gateway.Pipeline;

/// <summary>
/// Pooled memory for the copies of small messages and the intermediate copies signing and
/// encrypting make: MemoryStreams that grow by doubling allocated and dropped several buffers per
/// message, some on the large-object heap. The pool zeroes every buffer it gets back, since these
/// copies hold plaintext mail.
/// </summary>
internal static class CopyBuffers
{
    private static readonly RecyclableMemoryStreamManager Manager = new(new RecyclableMemoryStreamManager.Options
    {
        BlockSize = 32 * 1024,
        LargeBufferMultiple = 1024 * 1024,
        MaximumBufferSize = 8 * 1024 * 1024,
        // No cap on what is kept for reuse: a block the pool drops for being over a cap goes to the
        // garbage collector without being zeroed. What it keeps is bounded by its peak use, the
        // copies of messages up to 1 MiB that the workers make at once.
        MaximumSmallPoolFreeBytes = 0,
        MaximumLargePoolFreeBytes = 0,
        ZeroOutBuffer = true,
    });

    public static MemoryStream Rent(string tag) => Manager.GetStream(tag);
}
