using Gateway.Configuration;
using Gateway.Spool;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Gateway.Tests.Fixtures;

/// <summary>
/// A spool folder of its own for tests of the accept journal: spools and journals on it (each
/// journal disposed at the end), what incoming/ and journal/ hold, and the folder deleted afterwards.
/// </summary>
public abstract class JournalTestFolder : IDisposable
{
    private readonly List<AcceptJournal> _journals = [];

    protected string Root { get; } = Directory.CreateTempSubdirectory("gateway-journal-").FullName;

    protected string JournalFolder => Path.Combine(Root, "journal");

    protected FileSpool NewSpool(long? minimumFreeSpace = null)
    {
        var spool = new FileSpool(Options.Create(new GatewayOptions { Spool = new SpoolOptions { Path = Root, MinimumFreeSpace = minimumFreeSpace } }),
            TimeProvider.System, NullLogger<FileSpool>.Instance);
        spool.EnsureFolders();
        return spool;
    }

    protected AcceptJournal NewJournal(FileSpool spool, long segmentSize = 1024 * 1024, long memoryLimit = 64 * 1024 * 1024)
    {
        var journal = new AcceptJournal(spool, new Gateway.Pipeline.CopyBuffers(1), Options.Create(new GatewayOptions { Spool = new SpoolOptions { Path = Root } }),
            TimeProvider.System, NullLogger<AcceptJournal>.Instance) { SegmentSize = segmentSize, MemoryLimit = memoryLimit };
        _journals.Add(journal);
        return journal;
    }

    /// <summary>The ids of incoming/ (those with an envelope), in order.</summary>
    protected static string[] Incoming(FileSpool spool) =>
        Directory.GetFiles(spool.Incoming, "*.json").Select(Path.GetFileNameWithoutExtension).OfType<string>().Order(StringComparer.Ordinal).ToArray();

    protected string[] Segments() => SpooledMessages.Segments(Root);

    public void Dispose()
    {
        foreach (var journal in _journals) journal.Dispose();
        try { Directory.Delete(Root, recursive: true); } catch (IOException) { }
        GC.SuppressFinalize(this);
    }
}
