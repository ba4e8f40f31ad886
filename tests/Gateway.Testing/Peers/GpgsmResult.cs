using System.Text;

namespace Gateway.Testing.Peers;

/// <summary>Outcome of a gpgsm call. Content is its output (e.g. decrypted MIME), Status the --status-fd lines.</summary>
public sealed record GpgsmResult(bool Success, int ExitCode, string Status, string Stderr, byte[] Content)
{
    public string ContentText => Encoding.UTF8.GetString(Content);

    /// <summary>gpgsm said DECRYPTION_OKAY (its exit code is 2 when it also lacked the key of another recipient).</summary>
    public bool Decrypted => Status.Contains("[GNUPG:] DECRYPTION_OKAY", StringComparison.Ordinal);
}
