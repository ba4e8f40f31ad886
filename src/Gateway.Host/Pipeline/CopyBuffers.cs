using System.Buffers;
using System.Runtime.InteropServices;
using Gateway.Spool;
using Microsoft.IO;

namespace Gateway.Pipeline;

/// <summary>
/// Pooled memory for the copies of small messages and the intermediate copies signing and
/// encrypting make (and the accept journal's staging): MemoryStreams that grow by doubling
/// allocated and dropped several buffers per message, some on the large-object heap. These copies
/// hold plaintext mail, so none of their memory goes back unzeroed, to the pool or past it to the
/// garbage collector.
/// <para>
/// Both what it lends and what it keeps are bounded by the copies made at once
/// (Spool:MaxConcurrentTransforms), not by the workers: 256 workers whose copies an upstream sat
/// on for 3 s held 361 MiB of them, and without a cap the pool kept that much for the life of
/// the process.
/// </para>
/// </summary>
public sealed class CopyBuffers
{
    /// <summary>
    /// Lent per copy made at once: signing and encrypting a 1 MiB message holds about 4.5 MiB (the
    /// copy and three intermediate ones, opaque signing a little more), and the rest is room for
    /// copies waiting for the upstream's reply. Past it, copies are made in spool/work like large ones.
    /// </summary>
    internal const long LentPerTransform = 16 * 1024 * 1024;

    /// <summary>Kept for reuse per copy made at once: what one of them needs, rounded up.</summary>
    internal const long KeptPerTransform = 8 * 1024 * 1024;

    private readonly RecyclableMemoryStreamManager _manager;

    /// <param name="transforms">Copies made at once (Spool:MaxConcurrentTransforms as it applies).</param>
    public CopyBuffers(int transforms)
    {
        LentAtMost = transforms * LentPerTransform;
        KeptAtMost = transforms * KeptPerTransform;
        _manager = new RecyclableMemoryStreamManager(new RecyclableMemoryStreamManager.Options
        {
            BlockSize = 32 * 1024,
            LargeBufferMultiple = 1024 * 1024,
            MaximumBufferSize = 8 * 1024 * 1024,
            MaximumSmallPoolFreeBytes = KeptAtMost,
            MaximumLargePoolFreeBytes = KeptAtMost,
            // Zeroes what the pool keeps, a copy nobody disposed included; but of a copy's blocks past
            // the cap only the first (RecyclableMemoryStream 4.0.1): a PooledCopy zeroes its own.
            ZeroOutBuffer = true,
        });
    }

    /// <summary>Bytes of copies in memory beyond which <see cref="HasRoomFor"/> says no.</summary>
    public long LentAtMost { get; }

    /// <summary>Bytes of blocks the pool keeps for reuse at most (and as many of large buffers, which no copy asks for today).</summary>
    public long KeptAtMost { get; }

    /// <summary>Bytes in use now.</summary>
    public long Lent => _manager.SmallPoolInUseSize + _manager.LargePoolInUseSize;

    /// <summary>Bytes kept for reuse now, not in use.</summary>
    public long Kept => _manager.SmallPoolFreeSize + _manager.LargePoolFreeSize;

    /// <summary>Whether a copy of about <paramref name="size"/> bytes may be made in memory; else it goes to spool/work.</summary>
    public bool HasRoomFor(long size) => Lent + size <= LentAtMost;

    /// <summary>An empty copy of its own for the caller, to write, read and dispose.</summary>
    public Stream Rent(string tag) => new PooledCopy(_manager.GetStream(tag));

    /// <summary>
    /// A pooled stream that zeroes what it held when disposed, before the pool takes its blocks back
    /// or drops them. It is a Stream, not a MemoryStream: GetBuffer would move the copy to a large
    /// buffer and give its blocks back unzeroed past the cap.
    /// </summary>
    internal sealed class PooledCopy(RecyclableMemoryStream stream) : ForwardingStream(stream)
    {
        private bool _disposed;

        /// <summary>The blocks holding the copy, in the pool's own memory (for tests).</summary>
        internal ReadOnlySequence<byte> Memory => stream.GetReadOnlySequence();

        public override void SetLength(long value)
        {
            if (value < stream.Length) Zero(stream.GetReadOnlySequence().Slice(value)); // what is cut off stays in the blocks
            stream.SetLength(value);
        }

        protected override void Dispose(bool disposing)
        {
            if (disposing && !_disposed)
            {
                _disposed = true;
                Zero(stream.GetReadOnlySequence());
                stream.Dispose();
            }
            base.Dispose(disposing);
        }

        private static void Zero(ReadOnlySequence<byte> bytes)
        {
            foreach (var segment in bytes) MemoryMarshal.AsMemory(segment).Span.Clear();
        }
    }
}
