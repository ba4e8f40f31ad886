using System.Security.Cryptography;

namespace Gateway.Smime;

/// <summary>
/// The intermediate copies one transformation makes: the canonical form it signs, the entity it
/// encrypts, the envelope. Where they live is the caller's choice by the message's size (the
/// gateway: memory for small messages, deleted-on-close files in spool/work for large ones), so
/// a 50 MB message is never held in memory whole; they are all released, memory zeroed, when the
/// transformation is done.
/// </summary>
public sealed class ScratchStreams(Func<long, Stream> create) : IDisposable
{
    private readonly List<Stream> _open = [];

    /// <summary>Everything in memory: for tests and small messages.</summary>
    public static Stream InMemory(long expectedSize) => new MemoryStream();

    /// <param name="expectedSize">The size of the message being transformed; the copies are of that order.</param>
    public Stream Create(long expectedSize)
    {
        var stream = create(expectedSize);
        _open.Add(stream);
        return stream;
    }

    /// <summary>
    /// Releases every copy, even when one of them fails to close (a full disk flushing a work
    /// file): the transformation is over by then, its own error matters more than this one, and
    /// a work file left behind is removed when the spool is recovered at the next start.
    /// </summary>
    public void Dispose()
    {
        foreach (var stream in _open)
        {
            try
            {
                // A plain MemoryStream is zeroed here; pooled streams zero their buffers when they return them.
                if (stream.GetType() == typeof(MemoryStream)) CryptographicOperations.ZeroMemory(((MemoryStream)stream).GetBuffer().AsSpan(0, (int)stream.Length));
                stream.Dispose();
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
            }
        }
        _open.Clear();
    }
}
