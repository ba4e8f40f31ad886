using System.Security.Cryptography;
using System.Text;

namespace Gateway.Relay;

/// <summary>
/// SMTP AUTH (RFC 4954) to the upstream, with the strongest mechanism both sides have:
/// SCRAM-SHA-256, SCRAM-SHA-1 (the password never leaves Gateway, and the upstream proves it
/// knows it), then PLAIN, then LOGIN (the password goes, inside TLS).
/// </summary>
internal static class SaslAuthenticator
{
    public static readonly string[] Mechanisms = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"];

    /// <param name="command">Sends one line (CRLF added by the caller's text) and reads the reply.</param>
    /// <returns>The upstream's last reply: 235 when authenticated.</returns>
    /// <exception cref="UpstreamProtocolException">No common mechanism, or the upstream failed its side of SCRAM.</exception>
    public static async Task<UpstreamReply> AuthenticateAsync(Func<string, CancellationToken, ValueTask<UpstreamReply>> command, IReadOnlySet<string> offered,
        string user, string password, UpstreamHost host, CancellationToken cancellationToken)
    {
        switch (Mechanisms.FirstOrDefault(offered.Contains))
        {
            case "SCRAM-SHA-256":
                return await ScramAsync(command, "SCRAM-SHA-256", new ScramClient(HashAlgorithmName.SHA256, user, password), host, cancellationToken);
            case "SCRAM-SHA-1":
                return await ScramAsync(command, "SCRAM-SHA-1", new ScramClient(HashAlgorithmName.SHA1, user, password), host, cancellationToken);
            case "PLAIN":
                return await command($"AUTH PLAIN {Base64($"\0{user}\0{password}")}\r\n", cancellationToken);
            case "LOGIN":
                var reply = await command("AUTH LOGIN\r\n", cancellationToken);
                if (reply.Code == 334) reply = await command(Base64(user) + "\r\n", cancellationToken);
                if (reply.Code == 334) reply = await command(Base64(password) + "\r\n", cancellationToken);
                return reply;
            default:
                var names = offered.Count == 0 ? "none" : string.Join(' ', offered.Order());
                throw new UpstreamProtocolException($"upstream {host} offers no AUTH mechanism Gateway uses ({string.Join(", ", Mechanisms)}; offered: {names})");
        }
    }

    private static async Task<UpstreamReply> ScramAsync(Func<string, CancellationToken, ValueTask<UpstreamReply>> command, string mechanism, ScramClient scram,
        UpstreamHost host, CancellationToken cancellationToken)
    {
        var reply = await command($"AUTH {mechanism} {Base64(scram.ClientFirst)}\r\n", cancellationToken);
        if (reply.Code != 334) return reply;
        var final = TryText(reply.Text) is { } serverFirst ? scram.ClientFinal(serverFirst, out var error) : Fail(out error, "its first message is not base64");
        if (final is null) return await CancelAsync(command, host, mechanism, error!, cancellationToken);
        reply = await command(Base64(final) + "\r\n", cancellationToken);
        if (reply.Code != 334) return reply; // 235 without the server's proof, or a refusal
        if (TryText(reply.Text) is not { } serverFinal || !scram.VerifiesServer(serverFinal))
            return await CancelAsync(command, host, mechanism, "it could not prove it knows the password: not the upstream configured", cancellationToken);
        return await command("\r\n", cancellationToken);
    }

    /// <summary>Ends the exchange with "*" (RFC 4954 §4) and fails the session: the upstream is not what it should be.</summary>
    private static async Task<UpstreamReply> CancelAsync(Func<string, CancellationToken, ValueTask<UpstreamReply>> command, UpstreamHost host, string mechanism, string why,
        CancellationToken cancellationToken)
    {
        await command("*\r\n", cancellationToken);
        throw new UpstreamProtocolException($"upstream {host} failed {mechanism}: {why}");
    }

    private static string? Fail(out string? error, string why)
    {
        error = why;
        return null;
    }

    private static string? TryText(string base64)
    {
        try
        {
            return Encoding.UTF8.GetString(Convert.FromBase64String(base64));
        }
        catch (FormatException)
        {
            return null;
        }
    }

    private static string Base64(string text) => Convert.ToBase64String(Encoding.UTF8.GetBytes(text));
}
