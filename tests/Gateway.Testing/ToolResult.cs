using System.Text;

namespace Gateway.Testing;

/// <summary>What an external program did: exit code and everything it wrote.</summary>
public sealed record ToolResult(string CommandLine, int ExitCode, byte[] StdoutBytes, string Stderr)
{
    public string Stdout => Encoding.UTF8.GetString(StdoutBytes);

    public bool Succeeded => ExitCode == 0;

    /// <summary>Throws with the full command line and stderr, so a failing test explains itself.</summary>
    public ToolResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException(
                $"'{CommandLine}' exited with {ExitCode}.\nstderr:\n{Stderr}\nstdout:\n{Truncate(Stdout)}");
        }

        return this;
    }

    private static string Truncate(string text) => text.Length <= 4000 ? text : text[..4000] + "…";
}
