using System.Security.Cryptography;
using System.Text;

namespace Gateway.Relay;

/// <summary>
/// SMTP AUTH (RFC 4954) to the upstream, with the strongest mechanism both sides have:
/// SCRAM-SHA-256, SCRAM-SHA-1 (the password never leaves Gateway, and the upstream proves it
/// knows it), then PLAIN, then LOGIN (the password goes, inside TLS). A mechanism the upstream
/// offers but cannot complete (a SCRAM offered over a password store that only checks
/// plaintext, as Cyrus with saslauthd or Dovecot with crypt hashes do) is followed by PLAIN or
/// LOGIN in the same session, as mail clients do; an upstream that fails SCRAM's proof is not.
/// </summary>
internal static class SaslAuthenticator
{
    private static readonly string[] Mechanisms = ["SCRAM-SHA-256", "SCRAM-SHA-1", "PLAIN", "LOGIN"];

    /// <summary>Refusals after which the next mechanism is worth a try: authentication failed, mechanism too weak or unknown, temporary failure, encryption required.</summary>
    private static readonly HashSet<int> TryNext = [454, 504, 534, 535, 538];

    /// <param name="command">Sends one line (the text ends with CRLF) and reads the reply.</param>
    /// <returns>The upstream's last reply (235 when authenticated) and the mechanism it came to.</returns>
    /// <exception cref="UpstreamProtocolException">No common mechanism, or the upstream failed its side of SCRAM.</exception>
    public static async Task<(UpstreamReply Reply, string Mechanism)> AuthenticateAsync(Func<string, CancellationToken, ValueTask<UpstreamReply>> command, IReadOnlySet<string> offered,
        string user, string password, UpstreamHost host, CancellationToken cancellationToken)
    {
        // At most two tries: the best SCRAM, then the best of the mechanisms that send the password.
        // Another of the same kind would fail the same way, and each failure may count against
        // the account at the upstream (lockouts, fail2ban).
        var usable = new[] { Mechanisms[..2], Mechanisms[2..] }.Select(kind => kind.FirstOrDefault(offered.Contains)).OfType<string>().ToList();
        if (usable.Count == 0)
        {
            var names = offered.Count == 0 ? "none" : string.Join(' ', offered.Order());
            throw new UpstreamProtocolException($"upstream {host} offers no AUTH mechanism Gateway uses ({string.Join(", ", Mechanisms)}; offered: {names})");
        }
        UpstreamReply reply = default;
        var last = usable[0];
        foreach (var mechanism in usable)
        {
            reply = mechanism switch
            {
                "SCRAM-SHA-256" => await ScramAsync(command, mechanism, new ScramClient(HashAlgorithmName.SHA256, user, password), host, cancellationToken),
                "SCRAM-SHA-1" => await ScramAsync(command, mechanism, new ScramClient(HashAlgorithmName.SHA1, user, password), host, cancellationToken),
                "PLAIN" => await command($"AUTH PLAIN {Base64($"\0{user}\0{password}")}\r\n", cancellationToken),
                _ => await LoginAsync(command, user, password, cancellationToken),
            };
            last = mechanism;
            if (!TryNext.Contains(reply.Code)) return (reply, mechanism);
        }
        return (reply, last);
    }

    private static async Task<UpstreamReply> LoginAsync(Func<string, CancellationToken, ValueTask<UpstreamReply>> command, string user, string password, CancellationToken cancellationToken)
    {
        var reply = await command("AUTH LOGIN\r\n", cancellationToken);
        if (reply.Code == 334) reply = await command(Base64(user) + "\r\n", cancellationToken);
        if (reply.Code == 334) reply = await command(Base64(password) + "\r\n", cancellationToken);
        return reply;
    }

    private static async Task<UpstreamReply> ScramAsync(Func<string, CancellationToken, ValueTask<UpstreamReply>> command, string mechanism, ScramClient scram,
        UpstreamHost host, CancellationToken cancellationToken)
    {
        var reply = await command($"AUTH {mechanism} {Base64(scram.ClientFirst)}\r\n", cancellationToken);
        if (reply.Code != 334) return Unproven(reply, host, mechanism);
        var final = TryText(reply.Text) is { } serverFirst ? scram.ClientFinal(serverFirst, out var error) : Fail(out error, "its first message is not base64");
        if (final is null) return await CancelAsync(command, host, mechanism, error!, cancellationToken);
        reply = await command(Base64(final) + "\r\n", cancellationToken);
        if (reply.Code != 334) return Unproven(reply, host, mechanism);
        var serverFinal = TryText(reply.Text);
        if (serverFinal?.StartsWith("e=", StringComparison.Ordinal) == true)
        {
            // The upstream's own SCRAM error (unknown user, no SCRAM secret stored): a refusal, which the next mechanism may overcome.
            await CancelQuietlyAsync(command, cancellationToken);
            return new UpstreamReply(535, $"5.7.8 {mechanism} failed at the upstream: {serverFinal[2..]}");
        }
        if (serverFinal is null || !scram.VerifiesServer(serverFinal))
            return await CancelAsync(command, host, mechanism, "it could not prove it knows the password: not the upstream configured", cancellationToken);
        return await command("\r\n", cancellationToken);
    }

    /// <summary>
    /// A reply before the upstream proved itself: a refusal stands, but a success is refused,
    /// since an upstream that says 235 without its proof could be anyone (RFC 5802 §5: the
    /// client MUST check the server's signature; RFC 4954 §4 gives the proof a 334 of its own).
    /// </summary>
    private static UpstreamReply Unproven(UpstreamReply reply, UpstreamHost host, string mechanism) => reply.IsPositive
        ? throw new UpstreamProtocolException($"upstream {host} accepted {mechanism} without proving it knows the password: not the upstream configured")
        : reply;

    /// <summary>Ends the exchange with "*" (RFC 4954 §4) and fails the session: the upstream is not what it should be.</summary>
    private static async Task<UpstreamReply> CancelAsync(Func<string, CancellationToken, ValueTask<UpstreamReply>> command, UpstreamHost host, string mechanism, string why,
        CancellationToken cancellationToken)
    {
        await CancelQuietlyAsync(command, cancellationToken);
        throw new UpstreamProtocolException($"upstream {host} failed {mechanism}: {why}");
    }

    /// <summary>Says "*"; the reason for cancelling matters more than whether the upstream still listens.</summary>
    private static async Task CancelQuietlyAsync(Func<string, CancellationToken, ValueTask<UpstreamReply>> command, CancellationToken cancellationToken)
    {
        try
        {
            await command("*\r\n", cancellationToken);
        }
        catch (IOException)
        {
        }
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
