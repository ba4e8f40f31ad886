using Microsoft.IO;

namespace Gateway.Pipeline;

/// <summary>
/// Pooled memory for the copies of small messages and the intermediate copies signing and
/// encrypting make: MemoryStreams that grow by doubling allocated and dropped several buffers per
/// message, some on the large-object heap. The pool zeroes a buffer when it gets it back, since
/// these copies hold plaintext mail.
/// </summary>
internal static class CopyBuffers
{
    private static readonly RecyclableMemoryStreamManager Manager = new(new RecyclableMemoryStreamManager.Options
    {
        BlockSize = 32 * 1024,
        LargeBufferMultiple = 1024 * 1024,
        MaximumBufferSize = 8 * 1024 * 1024,
        // Kept for reuse at most this much: enough for every worker's copies of small messages.
        MaximumSmallPoolFreeBytes = 32 * 1024 * 1024,
        MaximumLargePoolFreeBytes = 16 * 1024 * 1024,
        ZeroOutBuffer = true,
    });

    public static MemoryStream Rent(string tag) => Manager.GetStream(tag);
}
