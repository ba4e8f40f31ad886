using Gateway.Configuration;
using Gateway.Relay;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Gateway.Cli;

/// <summary>
/// <c>gateway relay check</c>: opens a session with each configured upstream as the relay would
/// (TLS as Relay:TlsMode says, AUTH with Relay:Username), says what it offers and how the
/// session went, and closes it without sending mail. Exit 0 when Relay:Host or a fallback host
/// took a session, 1 otherwise: the check to run after changing Relay:*, before mail queues up.
/// </summary>
public static class RelayCheckCommand
{
    /// <summary>
    /// How much larger than the message a signed and encrypted copy can be: base64 with its line
    /// ends (4/3 × 78/76) around the signed content, plus the signature and the envelope. 8-bit text
    /// made quoted-printable for signing can add more.
    /// </summary>
    private const double EncryptedCopyGrowth = 1.4;

    /// <summary>The same for an opaque signature (signatureForm: opaque), which base64-encodes the content once more inside the envelope (measured 1.87).</summary>
    private const double OpaqueCopyGrowth = 1.9;

    public static async Task<int> ExecuteAsync(string? configPath, TextWriter output, TextWriter error, CancellationToken cancellationToken)
    {
        using var host = await ValidatedHost.TryCreateAsync(configPath, error, tool: true);
        if (host is null) return 1;
        var options = host.Services.GetRequiredService<IOptions<GatewayOptions>>().Value;
        var relay = options.Relay;
        if (string.IsNullOrWhiteSpace(relay.Host))
        {
            await output.WriteLineAsync($"no upstream: Relay:Host is empty, so copies are written to {Path.GetFullPath(relay.Outbox)}");
            return 0;
        }
        UpstreamSettings settings;
        try
        {
            settings = UpstreamSettings.For(relay, relay.HeloName ?? options.Smtp.ServerName);
        }
        catch (System.Security.Cryptography.CryptographicException e)
        {
            await error.WriteLineAsync($"configuration error: Gateway:Relay:CaCertificatePath: '{relay.CaCertificatePath}' is not a readable certificate: {e.Message}");
            return 1;
        }
        var reached = false;
        foreach (var upstream in UpstreamHost.AllOf(relay))
        {
            var notes = new List<string>();
            // The bound a copy has: an upstream that answers a line at a time cannot hold the check.
            using var bound = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            bound.CancelAfter(relay.Timeout * 5);
            try
            {
                using var session = await UpstreamPool.OpenSessionAsync(upstream, settings, notes.Add, bound.Token);
                reached = true;
                await output.WriteLineAsync($"upstream {upstream}: ready");
                await output.WriteLineAsync($"  offers: {Offers(session.Capabilities)}");
                await output.WriteLineAsync($"  TLS: {session.Protection}{Verification(relay, session)}");
                foreach (var note in notes) await output.WriteLineAsync($"  note: {note}; copies go in clear, as Relay:TlsMode Opportunistic allows");
                await output.WriteLineAsync($"  AUTH: {(session.AuthenticatedWith is { } mechanism ? $"authenticated as {relay.Username} with {mechanism}" : "none (no Relay:Username)")}");
                if (session.AuthenticatedWith is "PLAIN" or "LOGIN" && session.Protection == "none")
                    await output.WriteLineAsync("  warning: the password went in clear (Relay:TlsMode None): keep this upstream on a network you trust");
                await output.WriteLineAsync($"  a copy costs: {RoundTrips(session.Capabilities, relay)}");
                if (SizeAdvice(session.Capabilities.MaxSize, options.Smtp.MaxMessageSize) is { } advice) await output.WriteLineAsync(advice);
                await session.CloseAsync();
            }
            catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException
                                          || (e is OperationCanceledException && !cancellationToken.IsCancellationRequested))
            {
                var why = e is OperationCanceledException ? $"no session within {relay.Timeout * 5}" : e.Message;
                await output.WriteLineAsync($"upstream {upstream}: failed: {why}");
                foreach (var note in notes) await output.WriteLineAsync($"  note: {note}; tried again in clear, as Relay:TlsMode Opportunistic allows");
            }
        }
        return reached ? 0 : 1;
    }

    /// <summary>A warning when the upstream's SIZE cannot take the largest encrypted copy, a note when only opaque-signed ones would not fit; null when it can (or it gives no limit).</summary>
    private static string? SizeAdvice(long upstreamLimit, long maxMessageSize)
    {
        var encrypted = maxMessageSize * EncryptedCopyGrowth;
        var opaque = maxMessageSize * OpaqueCopyGrowth;
        if (upstreamLimit <= 0 || upstreamLimit >= opaque) return null;
        return upstreamLimit < encrypted
            ? $"  warning: it takes at most {upstreamLimit} bytes (SIZE), and a signed and encrypted copy of a message of Smtp:MaxMessageSize ({maxMessageSize}) " +
              $"can grow to about {(long)encrypted}: such copies are refused after Gateway took the message, and the sender gets a bounce; " +
              "raise the upstream's limit (Postfix: message_size_limit) or lower Smtp:MaxMessageSize"
            : $"  note: a copy signed opaque (a rule's signatureForm: opaque) and encrypted can grow to about {(long)opaque} " +
              $"for a message of Smtp:MaxMessageSize, more than the {upstreamLimit} bytes this upstream takes";
    }

    private static string Offers(UpstreamCapabilities offered)
    {
        var names = new List<string>();
        if (offered.Pipelining) names.Add("PIPELINING");
        if (offered.Chunking) names.Add("CHUNKING");
        if (offered.Size) names.Add(offered.MaxSize > 0 ? $"SIZE {offered.MaxSize}" : "SIZE");
        if (offered.EightBitMime) names.Add("8BITMIME");
        if (offered.Dsn) names.Add("DSN");
        if (offered.SmtpUtf8) names.Add("SMTPUTF8");
        if (offered.StartTls) names.Add("STARTTLS");
        if (offered.Authentication.Count > 0) names.Add("AUTH " + string.Join(' ', offered.Authentication.Order()));
        return names.Count == 0 ? "nothing Gateway uses (plain SMTP)" : string.Join(", ", names);
    }

    private static string Verification(RelayOptions relay, UpstreamSession session) => session.Protection == "none" ? string.Empty : relay.TlsMode switch
    {
        RelayTlsMode.Required when !string.IsNullOrEmpty(relay.CaCertificatePath) => $" (certificate verified against {relay.CaCertificatePath})",
        RelayTlsMode.Required => " (certificate verified against the system's trusted roots)",
        _ => " (certificate not verified: Relay:TlsMode Opportunistic)",
    };

    private static string RoundTrips(UpstreamCapabilities offered, RelayOptions relay) => (offered.Pipelining && relay.Pipelining, offered.Chunking && relay.Chunking) switch
    {
        (true, true) => "1 round trip (MAIL, RCPT and BDAT with the copy in one batch; copies over 64 KiB 2)",
        (true, false) => "2 round trips (MAIL, RCPT and DATA in one batch, then the data)",
        (false, true) => "2 + 1 per recipient round trips (each command waits; BDAT with the copy)",
        _ => "3 + 1 per recipient round trips (each command waits; DATA, then the data)",
    };
}
