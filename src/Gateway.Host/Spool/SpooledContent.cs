namespace Gateway.Spool;

/// <summary>
/// The bytes of a queued message, wherever they are: its file in incoming/ (or a work file made
/// from it), or memory, for a message that is still in the accept journal and was kept there since
/// its 250 (<see cref="AcceptJournal"/>). Every reader gets its own stream from the start.
/// </summary>
public sealed class SpooledContent
{
    private readonly string? _path;
    private readonly byte[]? _buffer;

    private SpooledContent(string? path, byte[]? buffer, long length)
    {
        _path = path;
        _buffer = buffer;
        Length = length;
    }

    public long Length { get; }

    /// <summary>True for a file the attempt made and must delete (see TriggerRemoval).</summary>
    public bool IsWorkFile { get; private init; }

    public string? Path => _path;

    /// <summary>The bytes, when they are held in memory (a journaled message); null for a file.</summary>
    public ReadOnlyMemory<byte>? Memory => _buffer?.AsMemory(0, (int)Length);

    public static SpooledContent InFile(string path) => new(path, null, new FileInfo(path).Length);

    public static SpooledContent InWorkFile(string path) => new(path, null, new FileInfo(path).Length) { IsWorkFile = true };

    /// <summary>The first <paramref name="length"/> bytes of <paramref name="buffer"/>; the caller owns the buffer and keeps it alive while this is read.</summary>
    public static SpooledContent InMemory(byte[] buffer, int length) => new(null, buffer, length);

    /// <remarks>Synchronous file streams, as everywhere in the spool (see DurableFile.WriteAllBytes).</remarks>
    public Stream OpenRead() => _buffer is not null
        ? new MemoryStream(_buffer, 0, (int)Length, writable: false)
        : new FileStream(_path!, FileMode.Open, FileAccess.Read, FileShare.Read, 64 * 1024, FileOptions.SequentialScan);
}
