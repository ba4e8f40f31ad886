using Gateway.Configuration;
using Gateway.Spool;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Gateway.Relay;

/// <summary>
/// Relays to the upstream MTA over pooled sessions (<see cref="UpstreamPool"/>,
/// <see cref="UpstreamSession"/>), the copy's bytes exactly as spooled. Each recipient's answer
/// is returned separately.
/// </summary>
public sealed class SmtpRelay : IRelay, IDisposable
{
    private readonly RelayOptions _relay;
    private readonly UpstreamPool _pool;

    public SmtpRelay(IOptions<GatewayOptions> options, TimeProvider time, ILogger<SmtpRelay> logger)
    {
        _relay = options.Value.Relay;
        _pool = new UpstreamPool(_relay, _relay.HeloName ?? options.Value.Smtp.ServerName, time, logger);
    }

    public async Task<IReadOnlyList<RecipientRelayResult>> SendAsync(string copyName, string mailFrom, IReadOnlyList<string> recipients, Stream content, DsnParameters? dsn, CancellationToken cancellationToken)
    {
        if (EnvelopeMailbox.TryCreate(mailFrom) is null)
            return recipients.Select(r => Result(r, 553, $"5.1.7 the sender address <{mailFrom}> cannot be written in an SMTP envelope")).ToList();
        var refused = new List<RecipientRelayResult>();
        var writable = new List<(string Address, int Index)>();
        for (var i = 0; i < recipients.Count; i++)
        {
            if (EnvelopeMailbox.TryCreate(recipients[i]) is null) refused.Add(Result(recipients[i], 553, $"5.1.3 the address <{recipients[i]}> cannot be written in an SMTP envelope"));
            else writable.Add((recipients[i], i));
        }
        if (writable.Count == 0) return refused;

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_relay.Timeout * 5);
        UpstreamConnection? connection = null;
        var reusable = false;
        try
        {
            var message = RelayedContent.Scan(content);
            connection = await _pool.RentAsync(timeout.Token);
            var upstream = connection.Session.Capabilities;
            if (upstream.MaxSize > 0 && message.Length > upstream.MaxSize)
            {
                reusable = true; // nothing was sent
                return writable.Select(w => Result(w.Address, 552, $"5.3.4 the message ({message.Length} bytes) is larger than upstream {connection.Host} takes ({upstream.MaxSize} bytes)") with { Upstream = connection.Host.ToString(), Tls = connection.Session.Protection })
                    .Concat(refused).ToList();
            }
            var transaction = RelayTransaction.Plan(mailFrom, writable, upstream, message, dsn);
            if (transaction.Unwritable is { } unwritable)
            {
                reusable = true; // nothing was sent
                return [.. unwritable, .. refused];
            }
            var replies = await connection.Session.SendAsync(transaction.Mail, transaction.Recipients, message, timeout.Token);
            // A refused transaction leaves the session in a known state, but one to say QUIT from, not to reuse.
            reusable = replies.Delivered;
            var (host, protection) = (connection.Host.ToString(), connection.Session.Protection);
            return [.. transaction.Results(replies, upstream.Dsn).Select(r => r with { Upstream = host, Tls = protection }), .. refused];
        }
        catch (Exception e) when (e is IOException or System.Net.Sockets.SocketException or System.Security.Authentication.AuthenticationException or OperationCanceledException)
        {
            if (e is OperationCanceledException && cancellationToken.IsCancellationRequested) throw;
            var upstream = connection?.Host.ToString() ?? _pool.Describe();
            var reply = e is OperationCanceledException ? $"4.4.2 upstream {upstream} timed out" : $"4.4.1 upstream {upstream}: {e.Message}";
            if (connection is not null) connection.Session.Dispose(); // its state is unknown: no QUIT
            return writable.Select(w => Result(w.Address, 451, reply) with { Upstream = connection?.Host.ToString() }).Concat(refused).ToList();
        }
        finally
        {
            if (connection is not null) _pool.Return(connection, reusable, quit: !connection.Session.IsBroken);
        }
    }

    public void Dispose() => _pool.Dispose();

    private static RecipientRelayResult Result(string recipient, int code, string text) =>
        new(recipient, code >= 500 ? RelayOutcome.Permanent : RelayOutcome.Temporary, $"{code} {text}");
}
