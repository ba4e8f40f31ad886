using System.Text;

namespace Gateway.Testing;

/// <summary>
/// The shared corpus of real and edge-case mail (../shared/corpus beside the repository, as on
/// every developer machine and in CI). A missing corpus is a failure, never a skip.
/// </summary>
public static class Corpus
{
    public static string Folder { get; } = Find();

    /// <summary>Every message: each .txt/.eml file, and each message of the .mbox files, with CRLF line ends.</summary>
    public static IEnumerable<(string Name, byte[] Message)> Messages()
    {
        foreach (var file in Directory.EnumerateFiles(Path.Combine(Folder, "mime")).Order(StringComparer.Ordinal))
        {
            var text = File.ReadAllText(file, Encoding.Latin1);
            if (file.EndsWith(".mbox", StringComparison.Ordinal))
            {
                var index = 0;
                foreach (var message in SplitMbox(text)) yield return ($"{Path.GetFileName(file)}#{++index}", Crlf(message));
            }
            else yield return (Path.GetFileName(file), Crlf(text));
        }
        yield return ("smime/thunderbird-signed.eml", Crlf(File.ReadAllText(Path.Combine(Folder, "smime", "thunderbird-signed.eml"), Encoding.Latin1)));
    }

    private static IEnumerable<string> SplitMbox(string text)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n');
        var current = new StringBuilder();
        foreach (var line in lines)
        {
            if (line.StartsWith("From ", StringComparison.Ordinal))
            {
                if (current.Length > 0) yield return current.ToString();
                current.Clear();
                continue;
            }
            current.Append(line).Append('\n');
        }
        if (current.Length > 0) yield return current.ToString();
    }

    // An MTA hands us CRLF; the corpus files are stored with LF.
    private static byte[] Crlf(string text) =>
        Encoding.Latin1.GetBytes(text.Replace("\r\n", "\n", StringComparison.Ordinal).Replace("\r", "", StringComparison.Ordinal).Replace("\n", "\r\n", StringComparison.Ordinal));

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            foreach (var candidate in new[] { Path.Combine(dir.FullName, "shared", "corpus"), Path.Combine(dir.FullName, "..", "shared", "corpus") })
                if (Directory.Exists(Path.Combine(candidate, "mime"))) return Path.GetFullPath(candidate);
        }
        throw new DirectoryNotFoundException("the shared mail corpus (shared/corpus beside the repository) was not found above " + AppContext.BaseDirectory);
    }
}
