namespace Gateway.Testing.Peers;

/// <summary>
/// openssl cms as an independent S/MIME peer: it checks what the gateway produced, and produces
/// what a partner would send. Failures are results, not exceptions, so tests can assert on them.
/// </summary>
public static class OpenSslCms
{
    /// <summary>
    /// openssl cms -verify -in EML -CAfile CA. Content is the signed content as openssl extracted it.
    /// Extra arguments go before -in (e.g. "-purpose", "smimesign" or "-certfile", "chain.pem").
    /// </summary>
    public static async Task<OpenSslResult> VerifyAsync(string emlPath, string caCertPath,
        IEnumerable<string>? extraArguments = null, CancellationToken cancellationToken = default)
    {
        string[] arguments = ["cms", "-verify", .. extraArguments ?? [], "-CAfile", caCertPath, "-in", emlPath];
        return OpenSslResult.From(await RunAsync(arguments, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>openssl cms -decrypt; Content is the decrypted MIME entity.</summary>
    public static async Task<OpenSslResult> DecryptAsync(string emlPath, string recipientCertPath,
        string recipientKeyPath, CancellationToken cancellationToken = default)
    {
        string[] arguments = ["cms", "-decrypt", "-recip", recipientCertPath, "-inkey", recipientKeyPath, "-in", emlPath];
        return OpenSslResult.From(await RunAsync(arguments, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// openssl cms -cmsout -print: the ASN.1 structure as text, for asserting algorithms
    /// (aes-256-cbc, rsaEncryption key transport, sha256) rather than trusting our own parser.
    /// </summary>
    public static async Task<OpenSslResult> CmsPrintAsync(string emlPath, CancellationToken cancellationToken = default)
    {
        string[] arguments = ["cms", "-cmsout", "-print", "-in", emlPath];
        return OpenSslResult.From(await RunAsync(arguments, cancellationToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Signs a MIME entity (multipart/signed, SHA-256) as a partner would. <paramref name="headers"/>
    /// are written above the MIME headers (e.g. From, To, Subject). Content is the signed message.
    /// </summary>
    public static async Task<OpenSslResult> SignAsync(string mimeEntityPath, string outputPath, string signerCertPath,
        string signerKeyPath, string? extraCertsPath = null, MessageHeaders? headers = null,
        CancellationToken cancellationToken = default)
    {
        string[] arguments =
        [
            "cms", "-sign", "-md", "sha256", "-signer", signerCertPath, "-inkey", signerKeyPath,
            .. extraCertsPath is null ? Array.Empty<string>() : ["-certfile", extraCertsPath],
            .. (headers ?? MessageHeaders.None).ToArguments(), "-in", mimeEntityPath, "-out", outputPath,
        ];
        return await RunToFileAsync(arguments, outputPath, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>
    /// Encrypts a MIME entity (default AES-256-CBC, RSA PKCS#1 v1.5 key transport) for the recipients.
    /// <paramref name="binary"/> encrypts the file's bytes as they are (a CRLF entity that is signed
    /// already) instead of openssl's text-mode line-end translation.
    /// </summary>
    public static async Task<OpenSslResult> EncryptAsync(string mimeEntityPath, string outputPath,
        IEnumerable<string> recipientCertPaths, string cipher = "aes-256-cbc", MessageHeaders? headers = null,
        bool binary = false, CancellationToken cancellationToken = default)
    {
        string[] arguments =
        [
            "cms", "-encrypt", "-" + cipher, .. (binary ? ["-binary"] : Array.Empty<string>()), .. (headers ?? MessageHeaders.None).ToArguments(),
            "-in", mimeEntityPath, "-out", outputPath,
            .. recipientCertPaths, // trailing certificates work for RSA and EC alike (see peers.md)
        ];
        return await RunToFileAsync(arguments, outputPath, cancellationToken).ConfigureAwait(false);
    }

    private static async Task<OpenSslResult> RunToFileAsync(string[] arguments, string outputPath,
        CancellationToken cancellationToken)
    {
        var result = OpenSslResult.From(await RunAsync(arguments, cancellationToken).ConfigureAwait(false));
        var written = result.Success && File.Exists(outputPath)
            ? await File.ReadAllBytesAsync(outputPath, cancellationToken).ConfigureAwait(false)
            : [];
        return result with { Content = written };
    }

    private static Task<ToolResult> RunAsync(string[] arguments, CancellationToken cancellationToken) =>
        ToolProcess.RunAsync("openssl", arguments, cancellationToken: cancellationToken);
}
