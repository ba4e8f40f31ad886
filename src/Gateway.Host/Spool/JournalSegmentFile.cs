namespace Gateway.Spool;

/// <summary>
/// Which files of spool/journal/ are accept-journal segments, and how their records are checked,
/// told by the name's extension.
/// <para>
/// Segments that begin with a key (<see cref="JournalSegmentHeader"/>) are named *.journal2, never
/// *.journal: a version from before keys recovers every *.journal file it finds and deletes those
/// it finds no record in, which a keyed segment is to it (its first bytes are a header, not a
/// record). Going back to such a version after a crash would have deleted messages already
/// acknowledged with a 250; under a name it does not list, it leaves them for the next start of a
/// version that reads them.
/// </para>
/// </summary>
internal static class JournalSegmentFile
{
    /// <summary>Segments that begin with a key: the only ones written.</summary>
    public const string Extension = ".journal2";

    /// <summary>Segments of versions before keys (records from the first byte, checked without one): read, never written.</summary>
    public const string LegacyExtension = ".journal";

    /// <summary>The segments in <paramref name="folder"/>, of either kind.</summary>
    public static IEnumerable<string> In(string folder) =>
        Directory.EnumerateFiles(folder, "*" + LegacyExtension + "*").Where(path => IsKeyed(path) || path.EndsWith(LegacyExtension, StringComparison.Ordinal));

    public static bool IsKeyed(string path) => path.EndsWith(Extension, StringComparison.Ordinal);
}
