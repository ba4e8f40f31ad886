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

    public void Dispose()
    {
        foreach (var stream in _open)
        {
            // A plain MemoryStream is zeroed here; pooled streams zero their buffers when they return them.
            if (stream.GetType() == typeof(MemoryStream)) CryptographicOperations.ZeroMemory(((MemoryStream)stream).GetBuffer().AsSpan(0, (int)stream.Length));
            stream.Dispose();
        }
        _open.Clear();
    }
}
