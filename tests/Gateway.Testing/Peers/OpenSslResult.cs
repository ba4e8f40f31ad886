using System.Text;

namespace Gateway.Testing.Peers;

/// <summary>
/// Outcome of an openssl cms call. Content is what openssl wrote as payload (verified content,
/// decrypted MIME, or the printed structure); on failure it may be empty.
/// </summary>
public sealed record OpenSslResult(bool Success, int ExitCode, string Stdout, string Stderr, byte[] Content)
{
    public string ContentText => Encoding.UTF8.GetString(Content);

    internal static OpenSslResult From(ToolResult result) =>
        new(result.ExitCode == 0, result.ExitCode, result.Stdout, result.Stderr, result.StdoutBytes);
}
